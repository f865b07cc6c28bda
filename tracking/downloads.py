"""Artifact downloads as HTTP responses: streamed attachments, as MLflow sends them."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse

from tracking.storage import CHUNK_SIZE, ArtifactDownload

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _header_value(value: str) -> str:
    """A header parameter as werkzeug writes it: a token bare, anything else quoted."""
    if TOKEN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition(filename: str) -> str:
    """``attachment; filename=<name>`` as MLflow sends it, with an RFC 5987 form for non-ASCII."""
    if filename.isascii():
        return f"attachment; filename={_header_value(filename)}"
    fallback = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        or "download"
    )
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename={_header_value(fallback)}; filename*=UTF-8''{encoded}"


def artifact_response(download: ArtifactDownload) -> FileResponse:
    """Stream an opened artifact as an attachment (never rendered on our origin)."""
    response = FileResponse(download.content, content_type=download.content_type)
    response.block_size = CHUNK_SIZE
    response["Content-Length"] = str(download.size)
    response["Content-Disposition"] = content_disposition(download.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
