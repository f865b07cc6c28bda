"""The logged-model endpoints (MLflow 3): create, get, finalize, delete, params, tags, search
and artifacts. spec: tracking.md §6, search.md §6, auth-workspace-permissions.md (table).

The model id comes from the URL; an unknown id, or one of another workspace, is 404
``Logged model with ID '<id>' not found.``
"""

from __future__ import annotations

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from config.errors import EndpointNotFoundError
from tracking.downloads import artifact_response
from tracking.selectors.logged_model_search import logged_model_search
from tracking.selectors.logged_models import (
    logged_model_artifact_list,
    logged_model_artifact_open,
    logged_model_get_with_data,
    logged_models_with_data,
)
from tracking.serializers.artifacts import FileInfoOut
from tracking.serializers.logged_models import (
    CreateLoggedModelIn,
    FinalizeLoggedModelIn,
    GetLoggedModelArtifactIn,
    ListLoggedModelArtifactsIn,
    LoggedModelOut,
    LogLoggedModelParamsIn,
    SearchLoggedModelsIn,
    SetLoggedModelTagsIn,
    check_body_model_id,
    parse_allow_deleted,
)
from tracking.services.logged_models import (
    logged_model_create,
    logged_model_delete,
    logged_model_delete_tag,
    logged_model_finalize,
    logged_model_log_params,
    logged_model_set_tags,
)
from workspaces.api import WorkspaceViewSet, json_response


class LoggedModelViewSet(WorkspaceViewSet):
    """Logged models of the active workspace; permissions follow the model's experiment."""

    permission_resource = "logged_model"
    required_permission = {
        "create": "edit:experiment",  # on the experiment named by experiment_id
        "get_logged_model": "read",
        "finalize": "edit",
        "delete_logged_model": "manage",
        "log_params": "edit",
        "set_tags": "edit",
        "delete_tag": "manage",
        # Any authenticated caller; the selector keeps the models of readable experiments.
        "search": "authenticated",
        "list_artifacts": "read",
        "get_artifact": "read",
    }

    def create(self, request: Request) -> HttpResponse:
        """``POST logged-models``: a PENDING model."""
        data = self.parse(CreateLoggedModelIn, request)
        model = logged_model_create(
            experiment_id=data["experiment_id"],
            name=data.get("name"),
            model_type=data.get("model_type", ""),
            source_run_id=data.get("source_run_id", ""),
            params=data["params"],
            tags=data["tags"],
        )
        return json_response({"model": LoggedModelOut.render(logged_models_with_data([model])[0])})

    def get_logged_model(self, request: Request, model_id: str) -> HttpResponse:
        """``GET logged-models/<id>[?allow_deleted=true]``."""
        allow_deleted = parse_allow_deleted(request.query_params)
        data = logged_model_get_with_data(model_id, allow_deleted=allow_deleted)
        return json_response({"model": LoggedModelOut.render(data)})

    def finalize(self, request: Request, model_id: str) -> HttpResponse:
        """``PATCH logged-models/<id>``: READY or UPLOAD_FAILED."""
        data = self.parse(FinalizeLoggedModelIn, request)
        check_body_model_id(data, model_id)
        model = logged_model_finalize(model_id=model_id, status=data["status"])
        return json_response({"model": LoggedModelOut.render(logged_models_with_data([model])[0])})

    def delete_logged_model(self, request: Request, model_id: str) -> HttpResponse:
        """``DELETE logged-models/<id>``."""
        logged_model_delete(model_id=model_id)
        return json_response({})

    def log_params(self, request: Request, model_id: str) -> HttpResponse:
        """``POST logged-models/<id>/params``."""
        data = self.parse(LogLoggedModelParamsIn, request)
        check_body_model_id(data, model_id)
        logged_model_log_params(model_id=model_id, params=data["params"])
        return json_response({})

    def set_tags(self, request: Request, model_id: str) -> HttpResponse:
        """``PATCH logged-models/<id>/tags``."""
        data = self.parse(SetLoggedModelTagsIn, request)
        logged_model_set_tags(model_id=model_id, tags=data["tags"])
        return json_response({})

    def delete_tag(self, request: Request, model_id: str, tag_key: str) -> HttpResponse:
        """``DELETE logged-models/<id>/tags/<key>``."""
        logged_model_delete_tag(model_id=model_id, key=tag_key)
        return json_response({})

    def search(self, request: Request) -> HttpResponse:
        """``POST logged-models/search``; ``{}`` when nothing matches."""
        data = self.parse(SearchLoggedModelsIn, request)
        page = logged_model_search(
            user=request.user,
            experiment_ids=data["experiment_ids"],
            filter_string=data["filter"],
            datasets=data["datasets"],
            max_results=data.get("max_results"),
            order_by=data["order_by"],
            page_token=data.get("page_token"),
        )
        body: dict[str, object] = {}
        if page.items:
            body["models"] = [LoggedModelOut.render(item) for item in page.items]
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return json_response(body)

    def list_artifacts(self, request: Request, model_id: str) -> HttpResponse:
        """``GET logged-models/<id>/artifacts/directories``."""
        data = self.parse(ListLoggedModelArtifactsIn, request)
        listing = logged_model_artifact_list(model_id, data.get("artifact_directory_path"))
        body = {
            "root_uri": listing.root_uri,
            **FileInfoOut.render_files(listing.entries, listing.prefix),
        }
        return json_response(body)

    def get_artifact(self, request: Request, model_id: str) -> HttpResponseBase:
        """``GET ajax-api/.../logged-models/<id>/artifacts/files`` (UI only)."""
        if not request.path.startswith("/ajax-api/"):  # the UI's route exists only there
            raise EndpointNotFoundError(
                f"No API endpoint at {request.path} (method {request.method})."
            )
        data = self.parse(GetLoggedModelArtifactIn, request)
        return artifact_response(logged_model_artifact_open(model_id, data["artifact_file_path"]))
