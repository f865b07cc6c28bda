"""The registry endpoints: registered models (prompts included), aliases and model versions.

spec: registry.md §2-3. No action is named after an HTTP method: DRF would answer that method
with it on every route of the view set.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from permissions.access import registered_models_readable_q
from registry.selectors.details import (
    created_model_version_details,
    model_version_artifact_open,
    model_version_details,
    model_version_download_uri,
    model_version_get_by_alias,
    model_version_get_details,
    registered_model_details,
    registered_model_get_details,
    registered_model_latest_versions,
)
from registry.selectors.search import model_version_search, registered_model_search
from registry.serializers import (
    AliasIn,
    CreateModelVersionIn,
    CreateRegisteredModelIn,
    DeleteModelVersionTagIn,
    DeleteRegisteredModelIn,
    DeleteRegisteredModelTagIn,
    GetLatestVersionsIn,
    GetModelVersionArtifactIn,
    GetRegisteredModelIn,
    ModelVersionIn,
    ModelVersionOut,
    RegisteredModelOut,
    RenameRegisteredModelIn,
    SearchIn,
    SetAliasIn,
    SetModelVersionTagIn,
    SetRegisteredModelTagIn,
    TransitionStageIn,
    UpdateModelVersionIn,
    UpdateRegisteredModelIn,
    tag_pairs,
)
from registry.services.model_versions import (
    model_version_create,
    model_version_delete,
    model_version_delete_tag,
    model_version_set_tag,
    model_version_transition_stage,
    model_version_update,
)
from registry.services.registered_models import (
    model_version_delete_alias,
    model_version_set_alias,
    registered_model_create,
    registered_model_delete,
    registered_model_delete_tag,
    registered_model_rename,
    registered_model_set_tag,
    registered_model_update,
)
from tracking.downloads import artifact_response
from workspaces.api import WorkspaceViewSet, json_response


class RegisteredModelViewSet(WorkspaceViewSet):
    """Registered models and prompts: create, read, update, rename, delete, search, tags,
    aliases and the latest version per stage."""

    permission_resource = "registered_model"
    required_permission = {
        "create": "manage:workspace",  # auth-workspace-permissions.md §10
        "get_model": "read",
        "update": "edit",
        "rename": "edit",
        "delete_model": "manage",
        "search": "authenticated",  # results are filtered per caller, not refused
        "latest_versions": "read",
        "set_tag": "edit",
        "delete_tag": "edit",
        "set_alias": "edit",
        "delete_alias": "manage",
        "get_by_alias": "read",
    }

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(CreateRegisteredModelIn, request)
        model = registered_model_create(
            name=data["name"],
            tags=tag_pairs(data.get("tags", [])),
            description=data.get("description", ""),
        )
        details = registered_model_details([model])[0]
        return json_response({"registered_model": RegisteredModelOut.render(details)})

    def get_model(self, request: Request) -> HttpResponse:
        data = self.parse(GetRegisteredModelIn, request)
        details = registered_model_get_details(data["name"])
        return json_response({"registered_model": RegisteredModelOut.render(details)})

    def update(self, request: Request) -> HttpResponse:
        data = self.parse(UpdateRegisteredModelIn, request)
        model = registered_model_update(name=data["name"], description=data.get("description", ""))
        details = registered_model_details([model])[0]
        return json_response({"registered_model": RegisteredModelOut.render(details)})

    def rename(self, request: Request) -> HttpResponse:
        data = self.parse(RenameRegisteredModelIn, request)
        model = registered_model_rename(name=data["name"], new_name=data["new_name"])
        details = registered_model_details([model])[0]
        return json_response({"registered_model": RegisteredModelOut.render(details)})

    def delete_model(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteRegisteredModelIn, request)
        registered_model_delete(name=data["name"])
        return json_response({})

    def search(self, request: Request) -> HttpResponse:
        data = self.parse(SearchIn, request)
        page = registered_model_search(
            visible=registered_models_readable_q(request.user),
            filter_string=data.get("filter"),
            max_results=data.get("max_results"),
            order_by=data.get("order_by", []),
            page_token=data.get("page_token"),
        )
        body: dict[str, object] = {}
        if page.items:
            body["registered_models"] = [RegisteredModelOut.render(item) for item in page.items]
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return json_response(body)

    def latest_versions(self, request: Request) -> HttpResponse:
        data = self.parse(GetLatestVersionsIn, request)
        versions = registered_model_latest_versions(data["name"], data.get("stages", []))
        body: dict[str, object] = {}
        if versions:
            body["model_versions"] = [ModelVersionOut.render(item) for item in versions]
        return json_response(body)

    def set_tag(self, request: Request) -> HttpResponse:
        data = self.parse(SetRegisteredModelTagIn, request)
        registered_model_set_tag(name=data["name"], key=data["key"], value=data.get("value", ""))
        return json_response({})

    def delete_tag(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteRegisteredModelTagIn, request)
        registered_model_delete_tag(name=data["name"], key=data["key"])
        return json_response({})

    def set_alias(self, request: Request) -> HttpResponse:
        data = self.parse(SetAliasIn, request)
        model_version_set_alias(name=data["name"], alias=data["alias"], version=data["version"])
        return json_response({})

    def delete_alias(self, request: Request) -> HttpResponse:
        data = self.parse(AliasIn, request)
        model_version_delete_alias(name=data["name"], alias=data["alias"])
        return json_response({})

    def get_by_alias(self, request: Request) -> HttpResponse:
        data = self.parse(AliasIn, request)
        details = model_version_get_by_alias(data["name"], data["alias"])
        return json_response({"model_version": ModelVersionOut.render(details)})


class ModelVersionViewSet(WorkspaceViewSet):
    """Model versions and prompt versions: create, read, update, stage, delete, search, tags
    and the download URI."""

    permission_resource = "registered_model"
    required_permission = {
        "create": "edit",
        "get_version": "read",
        "update": "edit",
        "transition_stage": "edit",
        "delete_version": "manage",
        "search": "authenticated",  # results are filtered per caller, not refused
        "download_uri": "read",
        "set_tag": "edit",
        "delete_tag": "manage",
    }

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(CreateModelVersionIn, request)
        tags = tag_pairs(data.get("tags", []))
        version = model_version_create(
            name=data["name"],
            source=data["source"],
            run_id=data.get("run_id"),
            model_id=data.get("model_id"),
            tags=tags,
            run_link=data.get("run_link", ""),
            description=data.get("description", ""),
        )
        details = created_model_version_details(version, tags=tags)
        return json_response({"model_version": ModelVersionOut.render(details)})

    def get_version(self, request: Request) -> HttpResponse:
        data = self.parse(ModelVersionIn, request)
        details = model_version_get_details(data["name"], data["version"])
        return json_response({"model_version": ModelVersionOut.render(details)})

    def update(self, request: Request) -> HttpResponse:
        data = self.parse(UpdateModelVersionIn, request)
        version = model_version_update(
            name=data["name"], version=data["version"], description=data.get("description", "")
        )
        details = model_version_details([version], with_aliases=True)[0]
        return json_response({"model_version": ModelVersionOut.render(details)})

    def transition_stage(self, request: Request) -> HttpResponse:
        data = self.parse(TransitionStageIn, request)
        version = model_version_transition_stage(
            name=data["name"],
            version=data["version"],
            stage=data["stage"],
            archive_existing_versions=data.get("archive_existing_versions", False),
        )
        details = model_version_details([version], with_aliases=True)[0]
        return json_response({"model_version": ModelVersionOut.render(details)})

    def delete_version(self, request: Request) -> HttpResponse:
        data = self.parse(ModelVersionIn, request)
        model_version_delete(name=data["name"], version=data["version"])
        return json_response({})

    def search(self, request: Request) -> HttpResponse:
        data = self.parse(SearchIn, request)
        page = model_version_search(
            visible=registered_models_readable_q(
                request.user,
                name_field="registered_model__name",
                workspace_field="registered_model__workspace",
            ),
            filter_string=data.get("filter"),
            max_results=data.get("max_results"),
            order_by=data.get("order_by", []),
            page_token=data.get("page_token"),
        )
        body: dict[str, object] = {}
        if page.items:
            body["model_versions"] = [ModelVersionOut.render(item) for item in page.items]
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return json_response(body)

    def download_uri(self, request: Request) -> HttpResponse:
        data = self.parse(ModelVersionIn, request)
        return json_response(
            {"artifact_uri": model_version_download_uri(data["name"], data["version"])}
        )

    def set_tag(self, request: Request) -> HttpResponse:
        data = self.parse(SetModelVersionTagIn, request)
        model_version_set_tag(
            name=data["name"],
            version=data["version"],
            key=data["key"],
            value=data.get("value", ""),
        )
        return json_response({})

    def delete_tag(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteModelVersionTagIn, request)
        model_version_delete_tag(name=data["name"], version=data["version"], key=data["key"])
        return json_response({})


class ModelVersionArtifactViewSet(WorkspaceViewSet):
    """The UI's download of a model version's file, outside ``api/``."""

    permission_resource = "registered_model"
    required_permission = {"get_artifact": "read"}

    def get_artifact(self, request: Request) -> HttpResponseBase:
        data = self.parse(GetModelVersionArtifactIn, request)
        return artifact_response(
            model_version_artifact_open(data["name"], data["version"], data["path"])
        )
