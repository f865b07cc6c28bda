"""The Django admin for users, tokens and permission rows, with the API's validation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from permissions.models import ExperimentPermission, Token, WorkspacePermission
from tests.conftest import ApiClient
from tests.permissions.conftest import Seed

ADMIN = "/admin"


@pytest.fixture
def admin_site(seed: Seed) -> Client:
    client = Client()
    client.force_login(seed.users["admin"])
    return client


@pytest.mark.parametrize(
    "page",
    [
        "auth/user/",
        "permissions/token/",
        "permissions/workspacepermission/",
        "permissions/experimentpermission/",
        "permissions/registeredmodelpermission/",
        "auth/user/add/",
        "permissions/token/add/",
        "permissions/workspacepermission/add/",
    ],
)
def test_admin_pages_open(admin_site: Client, page: str) -> None:
    response = admin_site.get(f"{ADMIN}/{page}")

    assert response.status_code == 200


def test_user_change_page_shows_the_users_rows(admin_site: Client, seed: Seed) -> None:
    response = admin_site.get(f"{ADMIN}/auth/user/{seed.users['alice'].pk}/change/")

    assert response.status_code == 200
    assert "NO_PERMISSIONS" in response.content.decode()


def test_adding_a_user_applies_the_password_rule(admin_site: Client, seed: Seed) -> None:
    short = admin_site.post(
        f"{ADMIN}/auth/user/add/",
        {
            "username": "gina",
            "password1": "short-pw-11",
            "password2": "short-pw-11",
            "usable_password": "true",
        },
    )
    long_enough = admin_site.post(
        f"{ADMIN}/auth/user/add/",
        {
            "username": "gina",
            "password1": "a-good-password-12",
            "password2": "a-good-password-12",
            "usable_password": "true",
        },
    )

    assert short.status_code == 200
    assert "Password must be a string longer than 12 characters." in short.content.decode()
    assert long_enough.status_code == 302
    assert User.objects.get(username="gina").check_password("a-good-password-12")


def test_a_token_added_in_the_admin_is_shown_once_and_works(
    admin_site: Client, seed: Seed, api: ApiClient
) -> None:
    response = admin_site.post(
        f"{ADMIN}/permissions/token/add/",
        {"user": seed.users["bob"].pk, "name": "laptop", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    message = next(str(m) for m in response.context["messages"])
    secret = message.split(": ", 1)[1].split(" ", 1)[0]

    used = api.call(
        "GET",
        "/api/2.0/mlflow/users/get",
        query={"username": "bob"},
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert Token.objects.get().prefix == secret[:12]
    assert used.status_code == 200


def test_workspace_permission_rows_are_validated(admin_site: Client, seed: Seed) -> None:
    bad_level = admin_site.post(
        f"{ADMIN}/permissions/workspacepermission/add/",
        {"for_workspace": seed.team_b.pk, "user": seed.users["erin"].pk, "permission": "SUPER"},
    )
    duplicate = admin_site.post(
        f"{ADMIN}/permissions/workspacepermission/add/",
        {"for_workspace": seed.team_a.pk, "user": seed.users["alice"].pk, "permission": "EDIT"},
    )
    good = admin_site.post(
        f"{ADMIN}/permissions/workspacepermission/add/",
        {"for_workspace": seed.team_b.pk, "user": seed.users["erin"].pk, "permission": "READ"},
    )

    assert bad_level.status_code == 200
    assert duplicate.status_code == 200
    assert good.status_code == 302
    assert WorkspacePermission.objects.get(user=seed.users["erin"]).permission == "READ"


def test_experiment_permission_rows_are_added_across_workspaces(
    admin_site: Client, seed: Seed
) -> None:
    response = admin_site.post(
        f"{ADMIN}/permissions/experimentpermission/add/",
        {
            "experiment": seed.experiments["exp-b"].pk,
            "user": seed.users["erin"].pk,
            "permission": "READ",
        },
    )

    assert response.status_code == 302
    assert ExperimentPermission.objects.filter(user=seed.users["erin"]).count() == 1


def test_admin_flag_makes_staff(admin_site: Client, seed: Seed, settings: Any) -> None:
    frank = seed.users["frank"]
    data = {
        "username": "frank",
        "is_active": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    for prefix in [
        "workspace_permissions",
        "experiment_permissions",
        "registered_model_permissions",
    ]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = admin_site.post(f"{ADMIN}/auth/user/{frank.pk}/change/", data)

    frank.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (frank.is_superuser, frank.is_staff) == (True, True)
