"""Request schemas and renderers of the artifact endpoints. spec: tracking.md §7."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import QueryDict

from config import wire
from config.errors import InvalidParameterValueError
from tracking.storage import ArtifactEntry


class RunArtifactRequest(wire.Schema):
    """Names a run by ``run_id`` or the legacy ``run_uuid``; ``parsed["run_id"]`` is always set."""

    run_id = wire.String()
    run_uuid = wire.String()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return cls._finish(super().parse(data))

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        return cls._finish(super().parse_query(query))

    @classmethod
    def _finish(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        run_id = parsed.get("run_id") or parsed.get("run_uuid")
        if not run_id:
            raise wire.missing_value("run_id")
        parsed["run_id"] = run_id
        return parsed


class ListArtifactsIn(RunArtifactRequest):
    """``GET 2.0/mlflow/artifacts/list``; ``page_token`` is accepted and ignored."""

    path = wire.String()
    page_token = wire.String()


class GetArtifactIn(RunArtifactRequest):
    """``GET /get-artifact?run_id=&path=`` (the UI's download)."""

    path = wire.String(required=True)


class UploadArtifactIn(wire.Schema):
    """``POST ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=``; the body is the file."""

    run_uuid = wire.String()
    path = wire.String()

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        parsed = super().parse_query(query)
        if not parsed.get("run_uuid"):
            raise InvalidParameterValueError("Request must specify run_uuid.")
        if not parsed.get("path"):
            raise InvalidParameterValueError("Request must specify path.")
        return parsed


class ListProxyArtifactsIn(wire.Schema):
    """``GET 2.0/mlflow-artifacts/artifacts?path=``."""

    path = wire.String()


class MultipartPartIn(wire.Schema):
    part_number = wire.Int64()
    etag = wire.String()
    url = wire.String()


class CreateMultipartUploadIn(wire.Schema):
    path = wire.String(required=True)
    num_parts = wire.Int64()


class CompleteMultipartUploadIn(wire.Schema):
    path = wire.String(required=True)
    upload_id = wire.String()
    parts = wire.Repeated(wire.Message(MultipartPartIn), required=True)


class AbortMultipartUploadIn(wire.Schema):
    path = wire.String(required=True)
    upload_id = wire.String()


class PresignedUploadUrlIn(wire.Schema):
    """Exactly one of ``run_id`` and ``model_id``; expiration defaults to 900 seconds."""

    run_id = wire.String()
    model_id = wire.String()
    path = wire.String(required=True)
    expiration = wire.Int64()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        parsed = super().parse(data)
        if bool(parsed.get("run_id")) == bool(parsed.get("model_id")):
            raise InvalidParameterValueError("Exactly one of run_id and model_id must be provided.")
        parsed.setdefault("expiration", 900)
        return parsed


class PresignedDownloadUrlIn(wire.Schema):
    """Expiration defaults to MLflow's 300 seconds and is capped at the clouds' 7 days."""

    run_id = wire.String(required=True)
    path = wire.String(required=True)
    expiration = wire.Int64()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        parsed = super().parse(data)
        expiration = parsed.setdefault("expiration", 300)
        if not 1 <= expiration <= 604800:
            raise InvalidParameterValueError(
                f"expiration must be between 1 and 604800 seconds (got {expiration})."
            )
        return parsed


class FileInfoOut:
    """``FileInfo``: ``path``, ``is_dir`` and, for files, ``file_size``."""

    @staticmethod
    def render(entry: ArtifactEntry, prefix: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"path": f"{prefix}{entry.path}", "is_dir": entry.is_dir}
        if entry.file_size is not None:
            body["file_size"] = entry.file_size
        return body

    @classmethod
    def render_files(cls, entries: Iterable[ArtifactEntry], prefix: str = "") -> dict[str, Any]:
        """``{"files": [...]}``, or ``{}`` when there are none (protobuf omits empty lists)."""
        files = [cls.render(entry, prefix) for entry in entries]
        return {"files": files} if files else {}
