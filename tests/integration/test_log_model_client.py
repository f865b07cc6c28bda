"""MLflow 3 logged models with the real client against a live server: a tiny scikit-learn model
logged with ``mlflow.sklearn.log_model``, registered, aliased and loaded back by alias.

spec: client-calls.md §2, examples/flows/log_model_register_load_alias.json,
examples/logged-models/sklearn_log_model.json, load_by_model_id.json.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The client's own import of mlflow.pyfunc warns about its type hints.
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
]

# Skip pip's requirement inference (it starts a subprocess that imports the model).
REQUIREMENTS = ["scikit-learn", "numpy"]


@pytest.fixture
def team_a_models(mlflow_client: Any) -> Any:
    """The client in a fresh workspace team-a with the experiment ``models-exp``."""
    mlflow = mlflow_client
    mlflow.create_workspace("team-a")
    mlflow.set_workspace("team-a")
    mlflow.set_experiment("models-exp")
    return mlflow


def tiny_classifier() -> tuple[Any, Any]:
    """A logistic regression on four points: predicts the second feature."""
    import numpy as np
    from sklearn.linear_model import (  # type: ignore[import-untyped]  # sklearn ships no types
        LogisticRegression,
    )

    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    labels = np.array([1, 0, 1, 0])
    return LogisticRegression().fit(features, labels), features


def test_log_model_register_alias_and_load(team_a_models: Any) -> None:
    # spec: client-calls.md §2
    mlflow = team_a_models
    from mlflow import MlflowClient

    classifier, features = tiny_classifier()
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            classifier, name="model", input_example=features[:2], pip_requirements=REQUIREMENTS
        )
    version = mlflow.register_model(info.model_uri, "iris-clf")
    client = MlflowClient()
    client.set_registered_model_alias("iris-clf", "champion", version.version)
    loaded = mlflow.pyfunc.load_model("models:/iris-clf@champion")
    predictions = loaded.predict(features)

    assert list(predictions) == [1, 0, 1, 0]
    experiment_id = run.info.experiment_id
    assert info.model_uri == f"models:/{info.model_id}"
    logged = client.get_logged_model(info.model_id)
    assert (logged.name, logged.status.name, logged.source_run_id) == (
        "model",
        "READY",
        run.info.run_id,
    )
    assert logged.artifact_location == (
        f"mlflow-artifacts:/workspaces/team-a/{experiment_id}/models/{info.model_id}/artifacts"
    )
    assert json.loads(logged.tags["mlflow.modelVersions"])[0] == {"name": "iris-clf", "version": 1}
    assert (version.version, version.run_id) == ("1", run.info.run_id)
    outputs = client.get_run(run.info.run_id).outputs
    assert outputs is not None
    assert [output.model_id for output in outputs.model_outputs] == [info.model_id]
    found = client.search_logged_models(
        experiment_ids=[experiment_id], filter_string="name = 'model'"
    )
    assert [model.model_id for model in found] == [info.model_id]
    files = {entry.path for entry in client.list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "model.skops", "requirements.txt"} <= files


def test_load_by_model_id_and_workspace_isolation(team_a_models: Any) -> None:
    # spec: examples/logged-models/load_by_model_id.json
    mlflow = team_a_models
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    classifier, features = tiny_classifier()
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(classifier, name="model", pip_requirements=REQUIREMENTS)

    by_id = mlflow.pyfunc.load_model(f"models:/{info.model_id}")
    mlflow.create_workspace("team-b")
    mlflow.set_workspace("team-b")
    with pytest.raises(MlflowException, match="not found") as missing:
        MlflowClient().get_logged_model(info.model_id)

    assert list(by_id.predict(features)) == [1, 0, 1, 0]
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
