"""Request and response shapes of the run, param, tag, input/output and log-model endpoints.
spec: tracking.md §1, §3.

Each ``<Operation>In`` parses the wire form and checks shapes (key characters, lengths) in
MLflow's order, with its messages; ``RunOut`` renders a run. State rules (active run, param
immutability) live in the services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from config import wire
from config.errors import InvalidParameterValueError
from tracking.models import Run, RunInput
from tracking.selectors.runs import RunData
from tracking.serializers.base import Int64, RunOrUuidRequest, RunRequest, RunStatus, TagIn
from tracking.serializers.metrics import MetricOut
from tracking.validators import (
    MAX_DATASET_DIGEST_SIZE,
    MAX_DATASET_NAME_SIZE,
    MAX_DATASET_PROFILE_SIZE,
    MAX_DATASET_SCHEMA_SIZE,
    MAX_DATASET_SOURCE_SIZE,
    MAX_INPUT_TAG_KEY_SIZE,
    MAX_INPUT_TAG_VALUE_SIZE,
    exceeds_maximum_length_message,
    invalid_value_message,
    validate_length,
    validate_param,
    validate_run_id,
    validate_run_tag,
)

MAX_RUN_NAME_LENGTH: Final = 250
MAX_USER_ID_LENGTH: Final = 256
DATASET_LIMITS: Final = (
    ("name", MAX_DATASET_NAME_SIZE),
    ("digest", MAX_DATASET_DIGEST_SIZE),
    ("source", MAX_DATASET_SOURCE_SIZE),
    ("schema", MAX_DATASET_SCHEMA_SIZE),
    ("profile", MAX_DATASET_PROFILE_SIZE),
)
LOGGED_MODEL_REQUIRED_FIELDS: Final = ("artifact_path", "flavors", "utc_time_created", "run_id")


class CreateRunIn(wire.Schema):
    experiment_id = wire.String()
    user_id = wire.String()
    run_name = wire.String()
    start_time = Int64()
    tags = wire.Repeated(wire.Message(TagIn))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        parsed = super().parse(data)
        # Tags are not checked by the reference here; keys and values must still fit the columns.
        tags: dict[str, str] = {}
        for index, tag in enumerate(parsed.get("tags", [])):
            key = tag.get("key", "")
            validate_length(f"tags[{index}].key", 250, key)
            tags[key] = validate_length(
                f"tags[{index}].value", 8000, tag.get("value", ""), truncate=True
            )
        parsed["tags"] = tags
        validate_length("run_name", MAX_RUN_NAME_LENGTH, parsed.get("run_name", ""))
        validate_length("user_id", MAX_USER_ID_LENGTH, parsed.get("user_id", ""))
        return parsed


class GetRunIn(RunOrUuidRequest):
    pass


class UpdateRunIn(RunOrUuidRequest):
    status = RunStatus()
    end_time = Int64()
    run_name = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        validate_length("run_name", MAX_RUN_NAME_LENGTH, parsed.get("run_name", ""))
        return parsed


class DeleteRunIn(RunRequest):
    pass


class RestoreRunIn(RunRequest):
    pass


class LogParamIn(RunOrUuidRequest):
    key = wire.String(required=True)
    value = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["value"] = validate_param(parsed["key"], parsed.get("value", ""))
        return parsed


class SetTagIn(RunOrUuidRequest):
    key = wire.String(required=True)
    value = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["value"] = validate_run_tag(parsed["key"], parsed.get("value", ""))
        return parsed


class DeleteTagIn(RunRequest):
    key = wire.String(required=True)


class DatasetIn(wire.Schema):
    name = wire.String()
    digest = wire.String()
    source_type = wire.String()
    source = wire.String()
    schema = wire.String()
    profile = wire.String()


class InputTagIn(wire.Schema):
    key = wire.String()
    value = wire.String()


class DatasetInputIn(wire.Schema):
    tags = wire.Repeated(wire.Message(InputTagIn))
    dataset = wire.Message(DatasetIn)


class ModelInputIn(wire.Schema):
    model_id = wire.String()


class ModelOutputIn(wire.Schema):
    model_id = wire.String()
    step = Int64()


class LogInputsIn(RunRequest):
    """``datasets`` become dicts with ``dataset`` (unset strings as ``""``, unset schema and
    profile as ``None``) and ``tags`` (a list of ``{"key", "value"}``); ``models`` a list of
    model ids."""

    datasets = wire.Repeated(wire.Message(DatasetInputIn))
    models = wire.Repeated(wire.Message(ModelInputIn))

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        validate_run_id(parsed["run_id"])
        datasets = []
        for dataset_input in parsed.get("datasets", []):
            raw = dataset_input.get("dataset", {})
            dataset = {
                "name": raw.get("name", ""),
                "digest": raw.get("digest", ""),
                "source_type": raw.get("source_type", ""),
                "source": raw.get("source", ""),
                "schema": raw.get("schema"),
                "profile": raw.get("profile"),
            }
            for field, limit in DATASET_LIMITS:
                if dataset[field] is not None and len(dataset[field]) > limit:
                    raise InvalidParameterValueError(exceeds_maximum_length_message(field, limit))
            tags = [
                {"key": tag.get("key", ""), "value": tag.get("value", "")}
                for tag in dataset_input.get("tags", [])
            ]
            for tag in tags:
                validate_length("key", MAX_INPUT_TAG_KEY_SIZE, tag["key"])
                validate_length("value", MAX_INPUT_TAG_VALUE_SIZE, tag["value"])
            datasets.append({"dataset": dataset, "tags": tags})
        parsed["datasets"] = datasets
        parsed["models"] = [model.get("model_id", "") for model in parsed.get("models", [])]
        return parsed


class LogOutputsIn(RunRequest):
    models = wire.Repeated(wire.Message(ModelOutputIn), required=True)

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["models"] = [
            (model.get("model_id", ""), model.get("step", 0)) for model in parsed["models"]
        ]
        return parsed


class LogModelIn(RunRequest):
    """The legacy ``model_json``: a JSON object with at least ``artifact_path``, ``flavors``,
    ``utc_time_created`` and ``run_id``; ``parsed["model"]`` holds it decoded."""

    model_json = wire.String(required=True)

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        text = parsed["model_json"]
        try:
            model = json.loads(text)
        except ValueError:
            model = None
        if not isinstance(model, dict):
            raise InvalidParameterValueError(
                f"Malformed model info. \n {text} \n is not a valid JSON."
            )
        missing = [field for field in LOGGED_MODEL_REQUIRED_FIELDS if field not in model]
        if missing:
            shown = "{" + ", ".join(repr(field) for field in sorted(missing)) + "}"
            raise InvalidParameterValueError(f"Model json is missing mandatory fields: {shown}")
        if not isinstance(model["flavors"], dict):
            raise InvalidParameterValueError(
                invalid_value_message("flavors", model["flavors"], "Expected a JSON object.")
            )
        parsed["model"] = model
        return parsed


def key_values(rows: Sequence[Any]) -> list[dict[str, str]]:
    return [{"key": row.key, "value": row.value} for row in rows]


class RunOut:
    """A run as MLflow sends it: ``{info, data, inputs[, outputs]}`` with protobuf omissions."""

    @staticmethod
    def render_info(run: Run) -> dict[str, Any]:
        """``RunInfo``: every field always present except ``end_time`` until it is set."""
        info: dict[str, Any] = {
            "run_uuid": run.run_uuid,
            "experiment_id": str(run.experiment_id),
            "run_name": run.run_name,
            "user_id": run.user_id,
            "status": run.status,
            "start_time": run.start_time,
        }
        if run.end_time is not None:
            info["end_time"] = run.end_time
        info["artifact_uri"] = run.artifact_uri
        info["lifecycle_stage"] = run.lifecycle_stage
        info["run_id"] = run.run_uuid
        return info

    @staticmethod
    def render(
        data: RunData, *, include_outputs: bool = True, include_model_inputs: bool = True
    ) -> dict[str, Any]:
        """The full run. ``runs/create`` leaves out ``outputs``; ``runs/search`` in MLflow
        leaves out ``inputs.model_inputs`` (pass ``include_model_inputs=False`` to match)."""
        run_data: dict[str, Any] = {}
        if data.metrics:
            run_data["metrics"] = [MetricOut.render(metric) for metric in data.metrics]
        if data.params:
            run_data["params"] = key_values(data.params)
        if data.tags:
            run_data["tags"] = key_values(data.tags)
        inputs: dict[str, Any] = {}
        if data.dataset_inputs:
            inputs["dataset_inputs"] = [RunOut.render_dataset_input(i) for i in data.dataset_inputs]
        if include_model_inputs and data.model_inputs:
            inputs["model_inputs"] = [{"model_id": link.model_id} for link in data.model_inputs]
        body: dict[str, Any] = {"info": RunOut.render_info(data.run), "data": run_data}
        body["inputs"] = inputs
        if include_outputs:
            outputs: dict[str, Any] = {}
            if data.model_outputs:
                outputs["model_outputs"] = [
                    {"model_id": link.model_id, "step": link.step} for link in data.model_outputs
                ]
            body["outputs"] = outputs
        return body

    @staticmethod
    def render_dataset_input(run_input: RunInput) -> dict[str, Any]:
        """``DatasetInput``: input tags when any, and the dataset (schema/profile when set)."""
        dataset = run_input.dataset
        rendered: dict[str, Any] = {
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
        }
        if dataset.schema is not None:
            rendered["schema"] = dataset.schema
        if dataset.profile is not None:
            rendered["profile"] = dataset.profile
        body: dict[str, Any] = {}
        if run_input.tags:
            body["tags"] = [{"key": tag["key"], "value": tag["value"]} for tag in run_input.tags]
        body["dataset"] = rendered
        return body
