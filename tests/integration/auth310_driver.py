"""Drives MLflow 3.10.1's ``AuthServiceClient`` for tests/integration/test_auth_client_310.py.

Runs inside .venv-auth310 (mlflow-skinny 3.10.1), never inside the project's venv: it reads a
JSON job on stdin, ``{"tracking_uri": ..., "steps": [{"user": [name, password],
"workspace": name or null, "call": method, "args": [...]}]}``, runs each step and prints one
JSON list: per step ``{"result": ...}`` (entities through ``to_json``) or
``{"error_code": ..., "message": ...}``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def plain(value: Any) -> Any:
    if isinstance(value, list):
        return [plain(item) for item in value]
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


def main() -> None:
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    job = json.load(sys.stdin)
    client = AuthServiceClient(job["tracking_uri"])
    answers: list[dict[str, Any]] = []
    for step in job["steps"]:
        username, password = step["user"]
        os.environ["MLFLOW_TRACKING_USERNAME"] = username
        os.environ["MLFLOW_TRACKING_PASSWORD"] = password
        mlflow.set_workspace(step.get("workspace"))
        try:
            result = getattr(client, step["call"])(*step.get("args", []))
        except MlflowException as error:
            answers.append({"error_code": error.error_code, "message": error.message})
        else:
            answers.append({"result": plain(result)})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
