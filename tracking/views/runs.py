"""The run endpoints: create/get/update/delete/restore and everything logged to a run.

spec: tracking.md §3–4, examples/runs/. Each action parses, calls one service or selector,
and renders.
"""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from tracking.selectors.runs import run_get_with_data
from tracking.serializers.metrics import LogBatchIn, LogMetricIn
from tracking.serializers.runs import (
    CreateRunIn,
    DeleteRunIn,
    DeleteTagIn,
    GetRunIn,
    LogInputsIn,
    LogModelIn,
    LogOutputsIn,
    LogParamIn,
    RestoreRunIn,
    RunOut,
    SetTagIn,
    UpdateRunIn,
)
from tracking.services.metrics import MetricPoint, run_log_metric
from tracking.services.runs import (
    run_create,
    run_delete,
    run_delete_tag,
    run_log_batch,
    run_log_inputs,
    run_log_model,
    run_log_outputs,
    run_log_param,
    run_restore,
    run_set_tag,
    run_update,
)
from workspaces.api import WorkspaceViewSet, json_response


class RunViewSet(WorkspaceViewSet):
    """Runs and their params, metrics, tags, inputs and outputs.

    No action is named after an HTTP method (``get``, ``delete``): DRF would bind it to that
    method on every route of the view set.
    """

    permission_resource = "run"
    required_permission = {
        "create": "edit:experiment",
        "get_run": "read",
        "update": "edit",
        "delete_run": "manage",
        "restore": "manage",
        "log_parameter": "edit",
        "log_metric": "edit",
        "set_tag": "edit",
        "delete_tag": "edit",
        "log_batch": "edit",
        "log_inputs": "edit",
        "log_outputs": "edit",
        "log_model": "edit",
    }

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(CreateRunIn, request)
        run = run_create(
            experiment_id=data.get("experiment_id", ""),
            user_id=data.get("user_id", ""),
            run_name=data.get("run_name", ""),
            start_time=data.get("start_time", 0),
            tags=data["tags"],
        )
        # spec: README.md §2.2, the create response has no "outputs".
        return json_response({"run": RunOut.render(run, include_outputs=False)})

    def get_run(self, request: Request) -> HttpResponse:
        data = self.parse(GetRunIn, request)
        return json_response({"run": RunOut.render(run_get_with_data(data["run_id"]))})

    def update(self, request: Request) -> HttpResponse:
        data = self.parse(UpdateRunIn, request)
        run = run_update(
            run_id=data["run_id"],
            status=data.get("status"),
            end_time=data.get("end_time"),
            run_name=data.get("run_name"),
        )
        return json_response({"run_info": RunOut.render_info(run)})

    def delete_run(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteRunIn, request)
        run_delete(run_id=data["run_id"])
        return json_response({})

    def restore(self, request: Request) -> HttpResponse:
        data = self.parse(RestoreRunIn, request)
        run_restore(run_id=data["run_id"])
        return json_response({})

    def log_parameter(self, request: Request) -> HttpResponse:
        data = self.parse(LogParamIn, request)
        run_log_param(run_id=data["run_id"], key=data["key"], value=data["value"])
        return json_response({})

    def log_metric(self, request: Request) -> HttpResponse:
        data = self.parse(LogMetricIn, request)
        run_log_metric(run_id=data["run_id"], metric=MetricPoint(**data["metric"]))
        return json_response({})

    def set_tag(self, request: Request) -> HttpResponse:
        data = self.parse(SetTagIn, request)
        run_set_tag(run_id=data["run_id"], key=data["key"], value=data["value"])
        return json_response({})

    def delete_tag(self, request: Request) -> HttpResponse:
        data = self.parse(DeleteTagIn, request)
        run_delete_tag(run_id=data["run_id"], key=data["key"])
        return json_response({})

    def log_batch(self, request: Request) -> HttpResponse:
        data = self.parse(LogBatchIn, request)
        run_log_batch(
            run_id=data["run_id"],
            metrics=[MetricPoint(**metric) for metric in data["metrics"]],
            params=data["params"],
            tags=data["tags"],
        )
        return json_response({})

    def log_inputs(self, request: Request) -> HttpResponse:
        data = self.parse(LogInputsIn, request)
        run_log_inputs(run_id=data["run_id"], datasets=data["datasets"], model_ids=data["models"])
        return json_response({})

    def log_outputs(self, request: Request) -> HttpResponse:
        data = self.parse(LogOutputsIn, request)
        run_log_outputs(run_id=data["run_id"], models=data["models"])
        return json_response({})

    def log_model(self, request: Request) -> HttpResponse:
        data = self.parse(LogModelIn, request)
        run_log_model(run_id=data["run_id"], model=data["model"])
        return json_response({})
