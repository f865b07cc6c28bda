"""Finding one experiment or run in the active workspace, with MLflow's not-found messages.

Another workspace's experiment or run is reported exactly like a missing one.
"""

from __future__ import annotations

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from tracking.models import ACTIVE, Experiment, Run


def parse_experiment_id(experiment_id: str | int) -> int:
    """An experiment id as an integer; MLflow sends ids as decimal strings."""
    text = str(experiment_id).strip()
    try:
        return int(text)
    except ValueError:
        raise InvalidParameterValueError(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        ) from None


def experiment_get(experiment_id: str | int) -> Experiment:
    """The experiment with this id in the active workspace, active or deleted."""
    pk = parse_experiment_id(experiment_id)
    try:
        return Experiment.objects.get(experiment_id=pk)
    except Experiment.DoesNotExist:
        raise ResourceDoesNotExistError(f"No Experiment with id={experiment_id} exists") from None


def experiment_get_active(experiment_id: str | int) -> Experiment:
    """The experiment, which must be active (runs and tags are written only to active ones)."""
    experiment = experiment_get(experiment_id)
    if experiment.lifecycle_stage != ACTIVE:
        raise InvalidParameterValueError(
            f"The experiment {experiment.experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    return experiment


def run_get(run_id: str) -> Run:
    """The run with this id in the active workspace, active or deleted."""
    try:
        return Run.objects.get(run_uuid=run_id)
    except Run.DoesNotExist:
        raise ResourceDoesNotExistError(f"Run with id={run_id} not found") from None


def run_get_active(run_id: str) -> Run:
    """The run, which must be active: params, metrics, tags and inputs go only to active runs."""
    run = run_get(run_id)
    if run.lifecycle_stage != ACTIVE:
        raise InvalidParameterValueError(
            f"The run {run_id} must be in the 'active' state. "
            f"Current state is {run.lifecycle_stage}."
        )
    return run
