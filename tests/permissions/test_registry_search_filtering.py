"""Registry searches return only what the caller may read (spec §11): filtered, not refused."""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import RegisteredModel
from tests.factories import ModelVersionFactory
from workspaces.context import across_workspaces

API = "/api/2.0/mlflow"


def names(response: Any, key: str) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted({row["name"] for row in response.json().get(key, [])})


def test_registered_model_search_hides_models_the_caller_may_not_read(
    as_user: Any, seed: Any
) -> None:
    response = as_user("alice", "GET", f"{API}/registered-models/search", workspace="team-a")

    assert names(response, "registered_models") == ["model-a"]


def test_model_version_search_hides_versions_of_unreadable_models(as_user: Any, seed: Any) -> None:
    with across_workspaces("test data"):
        for model in RegisteredModel.objects.all():
            ModelVersionFactory(registered_model=model, source="dummy-source")

    alice = as_user("alice", "GET", f"{API}/model-versions/search", workspace="team-a")
    carol = as_user("carol", "GET", f"{API}/model-versions/search", workspace="team-a")

    assert names(alice, "model_versions") == ["model-a"]
    assert names(carol, "model_versions") == ["model-a", "model-hidden"]


def test_a_user_with_only_resource_grants_searches_without_403(as_user: Any, seed: Any) -> None:
    response = as_user("bob", "GET", f"{API}/registered-models/search", workspace="team-a")

    assert response.status_code == 200
    assert names(response, "registered_models") == []


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_readable_models_are_listed(as_user: Any, seed: Any, user: str) -> None:
    response = as_user(user, "GET", f"{API}/registered-models/search", workspace="team-a")

    assert names(response, "registered_models")
