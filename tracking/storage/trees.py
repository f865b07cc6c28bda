"""The artifact trees: one interface over a local ``FileSystemStorage`` and an
``S3Storage`` (django-storages), for listing, reading, streaming uploads and deleting by key."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import posixpath
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

from config.errors import (
    BadRequestError,
    InvalidParameterValueError,
    NotImplementedFeatureError,
    ResourceDoesNotExistError,
)
from tracking.storage.keys import INVALID_PATH, PARTIAL_NAME

CHUNK_SIZE = 1024 * 1024
# Uploads larger than this are written by a second thread while the request thread receives.
PIPELINE_THRESHOLD = 4 * CHUNK_SIZE
PIPELINE_DEPTH = 4
WRITE_SIZE = 64 * 1024
S3_PART_SIZE = 8 * 1024 * 1024
PRESIGNED_UPLOAD_UNSUPPORTED = (
    "Presigned upload is not supported for the current artifact repository"
)
PRESIGNED_DOWNLOAD_UNSUPPORTED = (
    "Presigned download is not supported for the current artifact repository"
)
# mlflow.utils.mime_type_utils.get_text_extensions(): served as text/plain.
TEXT_EXTENSION_NAMES = (
    "txt log err cfg conf cnf cf ini properties prop hocon toml yaml yml xml json js py py3 csv "
    "tsv md rst ipynb MLmodel MLproject"
)
TEXT_EXTENSIONS = frozenset(TEXT_EXTENSION_NAMES.split())


@dataclass(frozen=True)
class ArtifactEntry:
    """One entry of a listing: a name (or run-relative path), and a size for files."""

    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass(frozen=True)
class ArtifactDownload:
    """An opened artifact: ``content`` is a file object or an iterator of chunks."""

    name: str
    size: int
    content: IO[bytes] | Iterator[bytes]

    @property
    def content_type(self) -> str:
        """MLflow's guess: text-like names are ``text/plain``, unknown ones octet-stream."""
        extension = posixpath.splitext(self.name)[1].removeprefix(".") or self.name
        if extension in TEXT_EXTENSIONS:
            return "text/plain"
        guessed, _ = mimetypes.guess_type(self.name)
        return guessed or "application/octet-stream"


class Readable(Protocol):
    """Where an upload's bytes come from: a request or its WSGI input."""

    def read(self, size: int = ..., /) -> bytes: ...


class UploadBody:
    """An upload's bytes, read in chunks; ends with an error when fewer than ``length`` arrive.

    A client that sends a short body and hangs up must not leave a truncated artifact.
    """

    def __init__(self, source: Readable, length: int | None, limit: int | None = None) -> None:
        self.source = source
        self.length = length
        self.limit = limit
        self.received = 0

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        """Up to ``size`` bytes; ``b""`` once the whole body has arrived."""
        if size is None or size < 0:
            size = CHUNK_SIZE
        if self.length is not None:
            size = min(size, self.length - self.received)
            if size <= 0:
                return b""
        try:
            data = self.source.read(size)
        except OSError as error:  # the connection broke (gunicorn: NoMoreData)
            raise BadRequestError("The upload ended before its Content-Length.") from error
        self.received += len(data)
        if not data and self.length is not None and self.received < self.length:
            raise BadRequestError("The upload ended before its Content-Length.")
        if self.limit is not None and self.received > self.limit:
            raise InvalidParameterValueError("Artifact size is too large. Max size is 10MB.")
        return data

    def chunks(self) -> Iterator[bytes]:
        """The body as chunks of at most ``CHUNK_SIZE`` bytes."""
        while data := self.read(CHUNK_SIZE):
            yield data

    def seekable(self) -> bool:
        """A request body is read once, front to back (s3transfer asks)."""
        return False

    def readable(self) -> bool:
        return True


def _not_found(key: str) -> ResourceDoesNotExistError:
    return ResourceDoesNotExistError(f"No such artifact: '{key}'")


def _is_directory(key: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(f"Artifact path refers to a directory, not a file: '{key}'")


def _visible(name: str) -> bool:
    return not PARTIAL_NAME.match(name)


class ArtifactTree:
    """A storage seen as a tree of ``/``-separated keys; subclasses per storage kind."""

    def list(self, key: str) -> list[ArtifactEntry]:
        """The entries directly below ``key`` (basenames, sorted); ``[]`` for a missing folder
        or a file."""
        raise NotImplementedError

    def open(self, key: str) -> ArtifactDownload:
        """Open the file at ``key`` for streaming, before any response is returned."""
        raise NotImplementedError

    def save(self, key: str, body: UploadBody) -> None:
        """Write ``body`` to ``key`` so that the name only ever shows a complete file."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Delete the file or the whole folder at ``key``; a missing key is no error."""
        raise NotImplementedError

    def presigned_url(self, key: str, *, method: str, expiration: int) -> tuple[str, int | None]:
        """A URL that lets its holder GET or PUT ``key`` directly, and the file's size."""
        raise NotImplementedFeatureError(
            PRESIGNED_UPLOAD_UNSUPPORTED if method == "PUT" else PRESIGNED_DOWNLOAD_UNSUPPORTED
        )


def _write_slices(file: IO[bytes], chunk: bytes) -> None:
    """Write ``chunk`` in ``WRITE_SIZE`` pieces: measured on ext4, many 64 KiB writes keep up
    with the network better than one 1 MiB write, which stalls longer in dirty-page throttling."""
    view = memoryview(chunk)
    for offset in range(0, len(view), WRITE_SIZE):
        file.write(view[offset : offset + WRITE_SIZE])


def _write_chunks(file: IO[bytes], chunks: Iterator[bytes], length: int | None) -> None:
    """Write ``chunks`` to ``file``. A large body is written by a second thread while this one
    keeps receiving, so the network and the disk overlap (both release the GIL); at most
    ``PIPELINE_DEPTH`` chunks wait in between, so memory stays bounded."""
    if length is not None and length <= PIPELINE_THRESHOLD:
        for chunk in chunks:
            _write_slices(file, chunk)
        return
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=PIPELINE_DEPTH)
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            while (chunk := pending.get()) is not None:
                _write_slices(file, chunk)
        except BaseException as error:  # handed to the request thread below
            failures.append(error)
            while pending.get() is not None:  # keep taking, so the receiver never blocks
                pass

    writer = threading.Thread(target=drain, name="artifact-writer", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failures:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failures:
        raise failures[0]


class LocalTree(ArtifactTree):
    """A ``FileSystemStorage`` folder. Uploads go to a hidden name in the target folder and
    are renamed over the final name, which is atomic on one filesystem."""

    def __init__(self, storage: FileSystemStorage) -> None:
        self.storage = storage
        self.root = os.path.realpath(storage.location)

    def _path(self, key: str) -> str:
        """The file system path of ``key``; symlinks may not lead out of the root."""
        path = self.storage.path(key) if key else self.root
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise InvalidParameterValueError(INVALID_PATH)
        return path

    def list(self, key: str) -> list[ArtifactEntry]:
        try:
            with os.scandir(self._path(key)) as entries:
                found = [
                    ArtifactEntry(entry.name, True)
                    if entry.is_dir()
                    else ArtifactEntry(entry.name, False, entry.stat().st_size)
                    for entry in entries
                    if _visible(entry.name)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(found, key=lambda entry: entry.path)

    def open(self, key: str) -> ArtifactDownload:
        path = self._path(key)
        if os.path.isdir(path):
            raise _is_directory(key)
        try:
            file = open(path, "rb")  # noqa: SIM115  # the response closes it after streaming
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key) from None
        return ArtifactDownload(posixpath.basename(key), os.fstat(file.fileno()).st_size, file)

    def save(self, key: str, body: UploadBody) -> None:
        path = self._path(key)
        if os.path.isdir(path):
            raise _is_directory(key)
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameterValueError(
                f"Cannot write artifact '{key}': a parent path is a file."
            ) from None
        self._path(posixpath.dirname(key))  # the folder may not be a symlink out of the root
        partial = os.path.join(folder, f".upload-{uuid.uuid4().hex}.part")
        try:
            with open(partial, "xb") as file:
                _write_chunks(file, body.chunks(), body.length)
            os.replace(partial, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
            raise

    def delete(self, key: str) -> None:
        path = self._path(key)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


class S3Tree(ArtifactTree):
    """An ``S3Storage`` bucket prefix. An object only appears once its upload completed, so
    uploads go straight to their key; reads stream the object body."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def _name(self, key: str) -> str:
        """The object key below the storage's location."""
        return str(self.storage._normalize_name(key)) if key else self.storage.location

    def _prefix(self, key: str) -> str:
        name = self._name(key)
        return f"{name}/" if name else ""

    @property
    def _client(self) -> Any:
        return self.storage.connection.meta.client

    def list(self, key: str) -> list[ArtifactEntry]:
        prefix = self._prefix(key)
        found: list[ArtifactEntry] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.storage.bucket_name, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", ()):
                name = common["Prefix"][len(prefix) :].rstrip("/")
                if name and _visible(name):
                    found.append(ArtifactEntry(name, True))
            for item in page.get("Contents", ()):
                name = item["Key"][len(prefix) :]
                if name and _visible(name):
                    found.append(ArtifactEntry(name, False, int(item["Size"])))
        return sorted(found, key=lambda entry: entry.path)

    def _has_children(self, key: str) -> bool:
        answer = self._client.list_objects_v2(
            Bucket=self.storage.bucket_name, Prefix=self._prefix(key), MaxKeys=1
        )
        return bool(answer.get("KeyCount"))

    def open(self, key: str) -> ArtifactDownload:
        from botocore.exceptions import ClientError

        if not key:
            raise _is_directory(key)
        try:
            answer = self._client.get_object(Bucket=self.storage.bucket_name, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            if self._has_children(key):
                raise _is_directory(key) from None
            raise _not_found(key) from None
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_SIZE)
            finally:
                body.close()

        return ArtifactDownload(posixpath.basename(key), int(answer["ContentLength"]), chunks())

    def save(self, key: str, body: UploadBody) -> None:
        from boto3.s3.transfer import TransferConfig

        if self._has_children(key):
            raise _is_directory(key)
        content_type, _ = mimetypes.guess_type(key)
        # Few, bounded parts in flight: memory stays flat however large the upload is.
        config = TransferConfig(
            multipart_threshold=S3_PART_SIZE,
            multipart_chunksize=S3_PART_SIZE,
            max_concurrency=2,
        )
        self._client.upload_fileobj(
            body,
            self.storage.bucket_name,
            self._name(key),
            ExtraArgs={"ContentType": content_type or "application/octet-stream"},
            Config=config,
        )

    def delete(self, key: str) -> None:
        bucket = self.storage.bucket
        bucket.objects.filter(Prefix=self._prefix(key)).delete()
        if key:
            bucket.Object(self._name(key)).delete()

    def presigned_url(self, key: str, *, method: str, expiration: int) -> tuple[str, int | None]:
        from botocore.exceptions import ClientError

        name = self._name(key)
        operation = "put_object" if method == "PUT" else "get_object"
        url = self._client.generate_presigned_url(
            operation,
            Params={"Bucket": self.storage.bucket_name, "Key": name},
            ExpiresIn=expiration,
            HttpMethod=method,
        )
        if method == "PUT":
            return str(url), None
        try:
            size = self._client.head_object(Bucket=self.storage.bucket_name, Key=name)
        except ClientError:
            raise _not_found(key) from None
        return str(url), int(size["ContentLength"])


def tree_for(storage: Storage) -> ArtifactTree:
    """The tree over one configured storage."""
    if isinstance(storage, FileSystemStorage):
        return LocalTree(storage)
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        return S3Tree(storage)
    raise ImproperlyConfigured(
        f"STORAGES['artifacts'] must be a FileSystemStorage or an S3Storage, "
        f"not {type(storage).__name__}."
    )


def proxy_tree() -> ArtifactTree:
    """The tree behind the ``mlflow-artifacts`` proxy (``MLFLOW_ARTIFACTS_DESTINATION``)."""
    return tree_for(storages["artifacts"])
