"""The artifact endpoints: the ``mlflow-artifacts`` proxy, run listings, the UI's download and
upload routes, and the multipart/presigned endpoints. spec: tracking.md §7, workspaces.md §6.2.

Bodies stream both ways: an upload is read from the request in chunks (never
``request.body``), and a download is a ``FileResponse`` over a file opened before returning.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from config.errors import (
    EndpointNotFoundError,
    InvalidParameterValueError,
)
from tracking.downloads import artifact_response
from tracking.selectors.artifacts import (
    logged_model_presigned_upload_url,
    proxy_artifact_list,
    proxy_artifact_open,
    proxy_presigned_download,
    run_artifact_list,
    run_artifact_open,
    run_presigned_url,
)
from tracking.serializers.artifacts import (
    AbortMultipartUploadIn,
    CompleteMultipartUploadIn,
    CreateMultipartUploadIn,
    FileInfoOut,
    GetArtifactIn,
    ListArtifactsIn,
    ListProxyArtifactsIn,
    PresignedDownloadUrlIn,
    PresignedUploadUrlIn,
    UploadArtifactIn,
)
from tracking.services.artifacts import (
    proxy_artifact_delete,
    proxy_artifact_upload,
    proxy_multipart_upload,
    run_artifact_upload,
)
from tracking.storage import UploadBody
from workspaces.api import WorkspaceViewSet, json_response

UI_UPLOAD_LIMIT = 10 * 1024 * 1024
UI_UPLOAD_TOO_LARGE = "Artifact size is too large. Max size is 10MB."


def upload_body(request: HttpRequest, limit: int | None = None) -> UploadBody:
    """The request body as a stream of known length; a chunked body is read from the WSGI
    input, which the server has already de-chunked (Django would see an empty body)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0 and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return UploadBody(request.META["wsgi.input"], None, limit)
    return UploadBody(request, max(length, 0), limit)


def empty_success() -> HttpResponse:
    """200 with an empty body, which the client reads as ``{}`` (artifact PUT, UI upload)."""
    return HttpResponse(b"", content_type="application/json")


class ProxyArtifactViewSet(WorkspaceViewSet):
    """``2.0/mlflow-artifacts/...``: files by path inside the request workspace's tree."""

    permission_resource = "artifact"
    required_permission = {
        "list_artifacts": "read",
        "download": "read",
        "upload": "edit",
        "delete_artifact": "delete",
        "create_multipart": "edit",
        "complete_multipart": "edit",
        "abort_multipart": "edit",
        "presigned_download": "read",
    }

    def list_artifacts(self, request: Request) -> HttpResponse:
        data = self.parse(ListProxyArtifactsIn, request)
        entries = proxy_artifact_list(data.get("path"))
        return json_response(FileInfoOut.render_files(entries))

    def download(self, request: Request, artifact_path: str) -> HttpResponseBase:
        return artifact_response(proxy_artifact_open(artifact_path))

    def upload(self, request: Request, artifact_path: str) -> HttpResponse:
        proxy_artifact_upload(path=artifact_path, body=upload_body(request._request))
        return empty_success()

    def delete_artifact(self, request: Request, artifact_path: str) -> HttpResponse:
        proxy_artifact_delete(path=artifact_path)
        return json_response({})

    def create_multipart(self, request: Request, artifact_path: str) -> HttpResponse:
        self.parse(CreateMultipartUploadIn, request)
        proxy_multipart_upload(path=artifact_path)
        return json_response({})

    def complete_multipart(self, request: Request, artifact_path: str) -> HttpResponse:
        self.parse(CompleteMultipartUploadIn, request)
        proxy_multipart_upload(path=artifact_path)
        return json_response({})

    def abort_multipart(self, request: Request, artifact_path: str) -> HttpResponse:
        self.parse(AbortMultipartUploadIn, request)
        proxy_multipart_upload(path=artifact_path)
        return json_response({})

    def presigned_download(self, request: Request, artifact_path: str) -> HttpResponse:
        proxy_presigned_download(artifact_path)
        return json_response({})


class RunArtifactViewSet(WorkspaceViewSet):
    """A run's artifacts by run id: the tracking listing, the UI's routes, presigned URLs."""

    permission_resource = "run"
    required_permission = {
        "list_artifacts": "read",
        "get_artifact": "read",
        "upload_artifact": "edit",
        "presigned_upload_url": "edit",
        "presigned_download_url": "read",
    }

    def list_artifacts(self, request: Request) -> HttpResponse:
        data = self.parse(ListArtifactsIn, request)
        listing = run_artifact_list(data["run_id"], data.get("path"))
        body = {
            "root_uri": listing.root_uri,
            **FileInfoOut.render_files(listing.entries, listing.prefix),
        }
        return json_response(body)

    def get_artifact(self, request: Request) -> HttpResponseBase:
        data = self.parse(GetArtifactIn, request)
        return artifact_response(run_artifact_open(data["run_id"], data["path"]))

    def upload_artifact(self, request: Request) -> HttpResponse:
        if not request.path.startswith("/ajax-api/"):  # the UI's route exists only there
            raise EndpointNotFoundError(
                f"No API endpoint at {request.path} (method {request.method})."
            )
        data = UploadArtifactIn.parse_query(request.query_params)
        body = upload_body(request._request, UI_UPLOAD_LIMIT)
        if body.length is not None and body.length > UI_UPLOAD_LIMIT:
            raise InvalidParameterValueError(UI_UPLOAD_TOO_LARGE)
        if body.length == 0:
            raise InvalidParameterValueError("Request must specify data.")
        run_artifact_upload(run_id=data["run_uuid"], path=data["path"], body=body)
        return empty_success()

    def presigned_upload_url(self, request: Request) -> HttpResponse:
        data = self.parse(PresignedUploadUrlIn, request)
        if data.get("model_id"):
            url = logged_model_presigned_upload_url(
                data["model_id"], data["path"], expiration=data["expiration"]
            )
            return json_response({"presigned_url": url, "headers": {}})
        url, _ = run_presigned_url(
            data["run_id"], data["path"], method="PUT", expiration=data["expiration"]
        )
        return json_response({"presigned_url": url, "headers": {}})

    def presigned_download_url(self, request: Request) -> HttpResponse:
        data = self.parse(PresignedDownloadUrlIn, request)
        url, size = run_presigned_url(
            data["run_id"], data["path"], method="GET", expiration=data["expiration"]
        )
        body: dict[str, object] = {"presigned_url": url, "headers": {}}
        if size is not None:
            body["file_size"] = size
        return json_response(body)
