"""The registry admin: browse across workspaces, filter by workspace, no adding or editing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import (
    ModelVersionFactory,
    ModelVersionTagFactory,
    RegisteredModelAliasFactory,
    RegisteredModelTagFactory,
)
from workspaces.models import Workspace

ADMIN = "/admin/registry"


@pytest.fixture
def admin_client(db: None, default_workspace: Workspace) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(user)
    return client


def test_registered_models_of_every_workspace_are_listed(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    version_a = ModelVersionFactory(registered_model__workspace=team_a)
    ModelVersionFactory(registered_model__workspace=team_b)
    RegisteredModelTagFactory(registered_model=version_a.registered_model)
    RegisteredModelAliasFactory(model_version=version_a)
    ModelVersionTagFactory(model_version=version_a)

    listed = admin_client.get(f"{ADMIN}/registeredmodel/")
    filtered = admin_client.get(f"{ADMIN}/registeredmodel/", {"workspace__id__exact": team_a.pk})
    detail = admin_client.get(f"{ADMIN}/registeredmodel/{version_a.registered_model_id}/change/")
    versions = admin_client.get(f"{ADMIN}/modelversion/")
    version_detail = admin_client.get(f"{ADMIN}/modelversion/{version_a.pk}/change/")

    assert listed.status_code == 200
    assert len(listed.context["cl"].result_list) == 2
    assert [m.workspace for m in filtered.context["cl"].result_list] == [team_a]
    assert detail.status_code == 200
    assert versions.status_code == 200
    assert len(versions.context["cl"].result_list) == 2
    assert version_detail.status_code == 200


def test_registry_rows_cannot_be_added_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get(f"{ADMIN}/registeredmodel/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/modelversion/add/").status_code == 403
