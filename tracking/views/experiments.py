"""The experiment endpoints (search lives in ``tracking/views/search.py``). spec: tracking.md §2."""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from tracking.selectors.experiments import experiment_get_by_name, experiment_get_with_tags
from tracking.serializers.experiments import (
    CreateExperimentIn,
    DeleteExperimentIn,
    DeleteExperimentTagIn,
    ExperimentOut,
    GetExperimentByNameIn,
    GetExperimentIn,
    RestoreExperimentIn,
    SetExperimentTagIn,
    UpdateExperimentIn,
)
from tracking.services.experiments import (
    experiment_create,
    experiment_delete,
    experiment_delete_tag,
    experiment_rename,
    experiment_restore,
    experiment_set_tag,
)
from workspaces.api import WorkspaceViewSet, json_response


class ExperimentViewSet(WorkspaceViewSet):
    """Create, read, rename, delete and restore experiments, and set or delete their tags.

    No action is named after an HTTP method (``get``, ``delete``): DRF would answer that
    method with it on every route of the view set, instead of 405.
    """

    permission_resource = "experiment"
    required_permission = {
        "create": "manage:workspace",  # auth-workspace-permissions.md §10
        "get_experiment": "read",
        "get_by_name": "read:experiment_name",
        "update": "edit",
        "set_tag": "edit",
        "delete_tag": "edit",
        "delete_experiment": "manage",
        "restore": "manage",
    }

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(CreateExperimentIn, request)
        experiment = experiment_create(
            name=data["name"],
            artifact_location=data.get("artifact_location", ""),
            tags=[(tag.get("key", ""), tag.get("value", "")) for tag in data.get("tags", [])],
        )
        return json_response({"experiment_id": str(experiment.experiment_id)})

    def get_experiment(self, request: Request) -> HttpResponse:
        data = self.parse(GetExperimentIn, request)
        experiment, tags = experiment_get_with_tags(data["experiment_id"])
        return json_response({"experiment": ExperimentOut.render(experiment, tags)})

    def get_by_name(self, request: Request) -> HttpResponse:
        data = self.parse(GetExperimentByNameIn, request)
        experiment, tags = experiment_get_by_name(data["experiment_name"])
        return json_response({"experiment": ExperimentOut.render(experiment, tags)})

    def update(self, request: Request) -> HttpResponse:
        data = self.parse(UpdateExperimentIn, request)
        experiment_rename(experiment_id=data["experiment_id"], new_name=data["new_name"])
        return json_response({})

    def delete_experiment(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteExperimentIn, request)
        experiment_delete(experiment_id=data["experiment_id"])
        return json_response({})

    def restore(self, request: Request) -> HttpResponse:
        data = self.parse(RestoreExperimentIn, request)
        experiment_restore(experiment_id=data["experiment_id"])
        return json_response({})

    def set_tag(self, request: Request) -> HttpResponse:
        data = self.parse(SetExperimentTagIn, request)
        experiment_set_tag(
            experiment_id=data["experiment_id"], key=data["key"], value=data.get("value", "")
        )
        return json_response({})

    def delete_tag(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteExperimentTagIn, request)
        experiment_delete_tag(experiment_id=data["experiment_id"], key=data["key"])
        return json_response({})
