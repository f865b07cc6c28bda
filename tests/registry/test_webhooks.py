"""Webhook CRUD, validation messages, workspace isolation, deletion modes and moves.
spec: registry.md §7, examples/webhooks/crud.json and errors.json, workspaces.md §5.4, §9.2.

No traffic leaves these tests: URLs point at loopback with private targets allowed (nothing is
sent on create), or are refused before any connection. Deliveries: test_webhooks_delivery.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from permissions.models import WorkspacePermission
from registry.models import Webhook, WebhookEvent
from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, WorkspaceFactory
from tests.permissions.conftest import (  # noqa: F401  # auth_settings is a fixture
    auth_settings,
    basic,
    make_user,
)
from tests.registry.conftest import create_model, invalid_parameter, not_found, ok
from workspaces.context import across_workspaces
from workspaces.models import Workspace
from workspaces.moves import resources_move

HOOKS = "/api/2.0/mlflow/webhooks"
WS = "/api/3.0/mlflow/workspaces"
LOOPBACK_URL = "https://127.0.0.1/hook"  # never contacted: creating a webhook sends nothing
MODEL_VERSION_CREATED = {"entity": "MODEL_VERSION", "action": "CREATED"}


@pytest.fixture(autouse=True)
def private_targets(settings: Any) -> None:
    """Loopback URLs are accepted unless a test turns the setting off again."""
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = True


def create_hook(api: ApiClient, workspace: str = "team-a", **fields: Any) -> dict[str, Any]:
    body = {"name": "my-hook", "url": LOOPBACK_URL, "events": [MODEL_VERSION_CREATED], **fields}
    webhook: dict[str, Any] = ok(api.call("POST", HOOKS, body, workspace=workspace))["webhook"]
    return webhook


def create_error(api: ApiClient, **fields: Any) -> Any:
    body = {"name": "bad-hook", "url": LOOPBACK_URL, "events": [MODEL_VERSION_CREATED], **fields}
    return api.call("POST", HOOKS, body, workspace="team-a")


# --- CRUD (spec: examples/webhooks/crud.json) ---------------------------------------------------


def test_create_webhook_returns_it_without_the_secret(api: ApiClient, team_a: Workspace) -> None:
    webhook = create_hook(api, description="notify", secret="s3cr3t")

    assert webhook == {
        "webhook_id": webhook["webhook_id"],
        "name": "my-hook",
        "description": "notify",
        "url": LOOPBACK_URL,
        "events": [MODEL_VERSION_CREATED],
        "status": "ACTIVE",
        "creation_timestamp": webhook["creation_timestamp"],
        "last_updated_timestamp": webhook["creation_timestamp"],
    }
    assert list(webhook) == [
        "webhook_id",
        "name",
        "description",
        "url",
        "events",
        "status",
        "creation_timestamp",
        "last_updated_timestamp",
    ]
    assert len(webhook["webhook_id"]) == 36
    with across_workspaces("test inspection"):
        stored = Webhook.objects.get(pk=webhook["webhook_id"])
    assert (stored.secret, stored.workspace_id) == ("s3cr3t", team_a.pk)


def test_create_webhook_without_description_omits_it_and_keeps_event_order(
    api: ApiClient, team_a: Workspace
) -> None:
    events = [
        {"entity": "PROMPT_ALIAS", "action": "DELETED"},
        MODEL_VERSION_CREATED,
        {"entity": "REGISTERED_MODEL", "action": "CREATED"},
    ]

    webhook = create_hook(api, events=events, status="DISABLED")

    assert "description" not in webhook
    assert webhook["events"] == events
    assert webhook["status"] == "DISABLED"


def test_create_webhook_accepts_enum_numbers_and_drops_repeated_events(
    api: ApiClient, team_a: Workspace
) -> None:
    webhook = create_hook(api, events=[{"entity": 2, "action": 1}, MODEL_VERSION_CREATED], status=1)

    assert webhook["events"] == [MODEL_VERSION_CREATED]
    assert webhook["status"] == "ACTIVE"


def test_webhook_lifecycle_as_recorded(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api, description="notify", secret="s3cr3t")
    hook = f"{HOOKS}/{created['webhook_id']}"

    listed = ok(api.call("GET", HOOKS, workspace="team-a", query={"max_results": "10"}))
    fetched = ok(api.call("GET", hook, workspace="team-a"))
    updated = ok(
        api.call("PATCH", hook, {"status": "DISABLED", "description": "off"}, workspace="team-a")
    )
    from_default = ok(api.call("GET", HOOKS, workspace="default"))
    deleted = ok(api.call("DELETE", hook, workspace="team-a"))
    after = api.call("GET", hook, workspace="team-a")

    assert listed == {"webhooks": [created]}
    assert fetched == {"webhook": created}
    assert updated["webhook"] == {
        **created,
        "description": "off",
        "status": "DISABLED",
        "last_updated_timestamp": updated["webhook"]["last_updated_timestamp"],
    }
    assert updated["webhook"]["last_updated_timestamp"] >= created["last_updated_timestamp"]
    assert from_default == {}
    assert deleted == {}
    assert after.status_code == 404
    assert after.json() == not_found(f"Webhook with ID {created['webhook_id']} not found.")
    with across_workspaces("test inspection"):
        assert not WebhookEvent.objects.exists()


def test_routes_exist_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api)

    response = api.call(
        "GET", f"/ajax-api/2.0/mlflow/webhooks/{created['webhook_id']}", workspace="team-a"
    )

    assert ok(response) == {"webhook": created}


def test_update_applies_only_the_given_fields(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api, description="notify", secret="s3cr3t")
    hook = f"{HOOKS}/{created['webhook_id']}"
    events = [{"entity": "PROMPT", "action": "CREATED"}, {"entity": "PROMPT_TAG", "action": "SET"}]

    renamed = ok(
        api.call(
            "PATCH",
            hook,
            {"name": "renamed.hook_1", "url": "https://localhost:8443/x?y=1", "events": events},
            workspace="team-a",
        )
    )["webhook"]
    unchanged = ok(
        api.call(
            "PATCH", hook, {"name": "", "url": "", "events": [], "secret": ""}, workspace="team-a"
        )
    )["webhook"]

    assert {key: renamed[key] for key in ("name", "url", "events", "description", "status")} == {
        "name": "renamed.hook_1",
        "url": "https://localhost:8443/x?y=1",
        "events": events,
        "description": "notify",
        "status": "ACTIVE",
    }
    assert {key: unchanged[key] for key in ("name", "url", "events")} == {
        "name": "renamed.hook_1",
        "url": "https://localhost:8443/x?y=1",
        "events": events,
    }
    with across_workspaces("test inspection"):
        assert Webhook.objects.get(pk=created["webhook_id"]).secret == ""


def test_update_with_an_empty_description_clears_it(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api, description="notify")

    updated = ok(
        api.call(
            "PATCH", f"{HOOKS}/{created['webhook_id']}", {"description": ""}, workspace="team-a"
        )
    )["webhook"]

    assert "description" not in updated


def test_refused_update_changes_nothing(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api)
    hook = f"{HOOKS}/{created['webhook_id']}"

    response = api.call(
        "PATCH",
        hook,
        {"name": "ok-name", "events": [{"entity": "PROMPT", "action": "SET"}]},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid action 'set' for entity 'prompt'. Valid actions are: ['created']"
    )
    assert ok(api.call("GET", hook, workspace="team-a")) == {"webhook": created}


# --- Listing and paging --------------------------------------------------------------------------


def test_list_pages_newest_first(api: ApiClient, team_a: Workspace) -> None:
    created = [create_hook(api, name=f"hook-{index}") for index in range(3)]
    created.sort(key=lambda hook: (-hook["creation_timestamp"], hook["webhook_id"]))

    first = ok(api.call("GET", HOOKS, workspace="team-a", query={"max_results": "2"}))
    second = ok(
        api.call(
            "GET",
            HOOKS,
            workspace="team-a",
            query={"max_results": "2", "page_token": first["next_page_token"]},
        )
    )

    assert first["webhooks"] == created[:2]
    assert second == {"webhooks": created[2:]}


@pytest.mark.parametrize("max_results", ["0", ""])
def test_list_max_results_zero_or_absent_means_the_default(
    api: ApiClient, team_a: Workspace, max_results: str
) -> None:
    created = create_hook(api)
    query = {"max_results": max_results} if max_results else {}

    assert ok(api.call("GET", HOOKS, workspace="team-a", query=query)) == {"webhooks": [created]}


@pytest.mark.parametrize("max_results", ["1001", "-1"])
def test_list_refuses_max_results_out_of_range(
    api: ApiClient, team_a: Workspace, max_results: str
) -> None:
    response = api.call("GET", HOOKS, workspace="team-a", query={"max_results": max_results})

    assert response.status_code == 400
    assert response.json() == invalid_parameter("max_results must be between 1 and 1000.")


def test_list_refuses_a_bad_page_token(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", HOOKS, workspace="team-a", query={"page_token": "%%%"})

    assert response.status_code == 400
    assert response.json() == invalid_parameter("Invalid page token, decoded value=b''")


@pytest.mark.parametrize("count", [1, 3])
def test_list_query_count_does_not_grow_with_webhooks(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    for index in range(count):
        create_hook(api, name=f"hook-{index}", events=[MODEL_VERSION_CREATED] * 2)

    # the page, its events
    with django_assert_num_queries(2):
        response = api.call("GET", HOOKS, workspace="team-a")

    assert len(ok(response)["webhooks"]) == count


def test_get_query_count(api: ApiClient, team_a: Workspace, django_assert_num_queries: Any) -> None:
    created = create_hook(api)

    # the webhook, its events
    with django_assert_num_queries(2):
        response = api.call("GET", f"{HOOKS}/{created['webhook_id']}", workspace="team-a")

    assert ok(response) == {"webhook": created}


# --- Validation (spec: examples/webhooks/errors.json) ------------------------------------------


def test_http_url_is_refused_as_recorded(api: ApiClient, team_a: Workspace) -> None:
    response = create_error(api, url="http://127.0.0.1:9/hook")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid webhook URL scheme: 'http'. Allowed schemes are: https."
    )


def test_invalid_action_for_entity_is_refused_as_recorded(
    api: ApiClient, team_a: Workspace
) -> None:
    response = create_error(api, events=[{"entity": "MODEL_VERSION", "action": "EXCEEDED"}])

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid action 'exceeded' for entity 'model_version'. Valid actions are: ['created']"
    )


def test_valid_actions_are_listed_sorted(api: ApiClient, team_a: Workspace) -> None:
    response = create_error(api, events=[{"entity": "MODEL_VERSION_TAG", "action": "CREATED"}])

    assert response.json() == invalid_parameter(
        "Invalid action 'created' for entity 'model_version_tag'. "
        "Valid actions are: ['deleted', 'set']"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "-bad"},
            "Webhook name '-bad' is invalid. It must start and end with a letter or digit, be "
            "less than 63 characters long, and contain only letters, digits, dots (.), "
            "underscores (_), and hyphens (-).",
        ),
        (
            {"name": "x" * 64},
            f"Webhook name '{'x' * 64}' is invalid. It must start and end with a letter or "
            "digit, be less than 63 characters long, and contain only letters, digits, dots "
            "(.), underscores (_), and hyphens (-).",
        ),
        (
            {"events": []},
            "Webhook events must be a non-empty list of WebhookEvent objects: [].",
        ),
        ({"url": "   "}, "Webhook URL cannot be empty or just whitespace: '   '"),
        ({"url": "https:///hook"}, "Webhook URL must include a hostname: 'https:///hook'"),
        (
            {"url": "https://[::1/hook"},
            "Invalid webhook URL 'https://[::1/hook': ValueError('Invalid IPv6 URL')",
        ),
        (
            {"url": "https://127.0.0.1:99999/hook"},
            "Invalid webhook URL 'https://127.0.0.1:99999/hook': "
            "ValueError('Port out of range 0-65535')",
        ),
        (
            {"url": "https://127.1/hook"},
            "Webhook URL host '127.1' is not a canonical IP address literal.",
        ),
        (
            {"url": "ftp://127.0.0.1/hook"},
            "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https.",
        ),
        (
            {"url": "https://127.0.0.1/" + "x" * 500},
            "Webhook URL must be at most 500 characters long, got 518.",
        ),
        (
            {"description": "d" * 1001},
            "Webhook description must be at most 1000 characters long, got 1001.",
        ),
        (
            {"name": None, "url": None},
            "Missing value for required parameter 'name'. See the API docs for more "
            "information about request parameters.",
        ),
        (
            {"url": None},
            "Missing value for required parameter 'url'. See the API docs for more "
            "information about request parameters.",
        ),
        (
            {"events": [{"entity": "MODEL_VERSION"}]},
            "Missing value for required parameter 'action'. See the API docs for more "
            "information about request parameters.",
        ),
    ],
)
def test_create_refuses_invalid_fields(
    api: ApiClient, team_a: Workspace, fields: dict[str, Any], message: str
) -> None:
    body = {
        key: value
        for key, value in {
            "name": "bad-hook",
            "url": LOOPBACK_URL,
            "events": [MODEL_VERSION_CREATED],
            **fields,
        }.items()
        if value is not None
    }

    response = api.call("POST", HOOKS, body, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)
    with across_workspaces("test inspection"):
        assert not Webhook.objects.exists()


def test_unknown_entity_and_status_are_refused(api: ApiClient, team_a: Workspace) -> None:
    unknown_entity = create_error(api, events=[{"entity": "EXPERIMENT", "action": "CREATED"}])
    unspecified = create_error(api, events=[{"entity": "ENTITY_UNSPECIFIED", "action": "CREATED"}])
    bad_status = create_error(api, status="PAUSED")

    assert [r.status_code for r in (unknown_entity, unspecified, bad_status)] == [400] * 3
    assert bad_status.json()["message"].startswith(
        "Invalid value \"PAUSED\" for parameter 'status'"
    )
    assert unknown_entity.json()["message"].startswith(
        "Invalid value \"EXPERIMENT\" for parameter 'entity'"
    )


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://[::1]/hook", "::1"),
        ("https://[::ffff:127.0.0.1]/hook", "::ffff:7f00:1"),
        ("https://10.0.0.1/hook", "10.0.0.1"),
        ("https://169.254.169.254/latest", "169.254.169.254"),
        ("https://localhost:8443/hook", None),
    ],
)
def test_non_public_targets_are_refused_by_default(
    api: ApiClient, team_a: Workspace, settings: Any, url: str, address: str | None
) -> None:
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = False

    response = create_error(api, url=url)

    assert response.status_code == 400
    message = response.json()["message"]
    host = url.split("//")[1].split("/")[0].rsplit(":", 1)[0].strip("[]")
    if address is None:  # localhost: whichever loopback address the resolver lists first
        assert message.startswith(
            "Webhook URL must not resolve to a non-public IP address. 'localhost' resolves to "
        )
    else:
        if url.startswith("https://["):
            host = url.split("[")[1].split("]")[0]
        assert message == (
            "Webhook URL must not resolve to a non-public IP address. "
            f"{host!r} resolves to {address}."
        )


def test_unresolvable_host_is_refused(api: ApiClient, team_a: Workspace, settings: Any) -> None:
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = False

    response = create_error(api, url="https://nonexistent.invalid/hook")

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Cannot resolve Webhook URL hostname 'nonexistent.invalid': "
    )


def test_http_is_accepted_only_when_configured(
    api: ApiClient, team_a: Workspace, settings: Any
) -> None:
    settings.MLFLOW_WEBHOOK_ALLOWED_SCHEMES = ["https", "http"]

    webhook = create_hook(api, url="http://127.0.0.1:9/hook")

    assert webhook["url"] == "http://127.0.0.1:9/hook"


def test_test_endpoint_refuses_a_target_that_is_no_longer_allowed(
    api: ApiClient, team_a: Workspace, settings: Any
) -> None:
    created = create_hook(api)
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = False

    response = api.call("POST", f"{HOOKS}/{created['webhook_id']}/test", {}, workspace="team-a")

    assert ok(response) == {
        "result": {
            "success": False,
            "error_message": 'Failed to test webhook: ForbiddenTargetError("Webhook URL must '
            "not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1.\")",
        }
    }


def test_test_endpoint_refuses_an_invalid_event(api: ApiClient, team_a: Workspace) -> None:
    created = create_hook(api)

    response = api.call(
        "POST",
        f"{HOOKS}/{created['webhook_id']}/test",
        {"event": {"entity": "PROMPT_TAG", "action": "CREATED"}},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid action 'created' for entity 'prompt_tag'. Valid actions are: ['deleted', 'set']"
    )


# --- Workspace isolation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"description": "mine now"}),
        ("DELETE", "", None),
        ("POST", "/test", {}),
    ],
)
def test_another_workspaces_webhook_does_not_exist(
    api: ApiClient,
    team_a: Workspace,
    team_b: Workspace,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    theirs = create_hook(api, workspace="team-b", description="b-only")
    hook = f"{HOOKS}/{theirs['webhook_id']}"

    response = api.call(method, f"{hook}{suffix}", body, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == not_found(f"Webhook with ID {theirs['webhook_id']} not found.")
    assert ok(api.call("GET", HOOKS, workspace="team-a")) == {}
    assert ok(api.call("GET", hook, workspace="team-b")) == {"webhook": theirs}


def test_unknown_webhook_id_is_not_found(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("PATCH", f"{HOOKS}/no-such-id", {"status": "ACTIVE"}, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == not_found("Webhook with ID no-such-id not found.")


def test_each_workspace_lists_only_its_own(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    mine = create_hook(api, workspace="team-a")
    theirs = create_hook(api, workspace="team-b")

    assert ok(api.call("GET", HOOKS, workspace="team-a")) == {"webhooks": [mine]}
    assert ok(api.call("GET", HOOKS, workspace="team-b")) == {"webhooks": [theirs]}


# --- Workspace deletion and moves (spec: workspaces.md §5.4, §9.2) ------------------------------


def delete_workspace(api: ApiClient, name: str, mode: str | None = None) -> Any:
    return api.call("DELETE", f"{WS}/{name}", query={"mode": mode} if mode else None)


def restrict_message(workspace: str, table: str, count: int) -> dict[str, str]:
    return {
        "error_code": "INVALID_STATE",
        "message": f"Cannot delete workspace '{workspace}': table '{table}' still contains "
        f"{count} resource(s). Remove or reassign them before deleting the workspace.",
        "sqlstate": "XXM00",
        "error_class": "CLIENT_INTERNAL_ERROR",
    }


def test_restrict_reports_webhooks(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-hooks")
    create_hook(api, workspace="tmp-hooks")
    create_hook(api, workspace="tmp-hooks", name="second")

    response = delete_workspace(api, "tmp-hooks")

    assert response.status_code == 400
    assert response.json() == restrict_message("tmp-hooks", "webhooks", 2)


def test_restrict_reports_experiments_before_webhooks(api: ApiClient) -> None:
    team = WorkspaceFactory(name="tmp-hooks")
    create_hook(api, workspace="tmp-hooks")
    ExperimentFactory(workspace=team)

    response = delete_workspace(api, "tmp-hooks")

    assert response.json() == restrict_message("tmp-hooks", "experiments", 1)


def test_restrict_reports_registered_models_before_webhooks(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-hooks")
    create_hook(api, workspace="tmp-hooks")
    create_model(api, "iris-clf", workspace="tmp-hooks")

    response = delete_workspace(api, "tmp-hooks")

    assert response.json() == restrict_message("tmp-hooks", "registered_models", 1)


def test_cascade_deletes_the_workspaces_webhooks_only(api: ApiClient, team_b: Workspace) -> None:
    WorkspaceFactory(name="tmp-hooks")
    create_hook(api, workspace="tmp-hooks")
    theirs = create_hook(api, workspace="team-b")

    response = delete_workspace(api, "tmp-hooks", "CASCADE")

    assert response.status_code == 204
    with across_workspaces("test inspection"):
        assert {row.workspace_id for row in Webhook.objects.all()} == {team_b.pk}
        assert {row.workspace_id for row in WebhookEvent.objects.all()} == {team_b.pk}
    assert ok(api.call("GET", HOOKS, workspace="team-b")) == {"webhooks": [theirs]}


def test_set_default_moves_webhooks_to_default(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-hooks")
    created = create_hook(api, workspace="tmp-hooks")
    create_hook(api, workspace="default")  # same name: webhook names need not be unique

    response = delete_workspace(api, "tmp-hooks", "SET_DEFAULT")

    assert response.status_code == 204
    moved = ok(api.call("GET", f"{HOOKS}/{created['webhook_id']}", workspace="default"))
    assert moved == {"webhook": created}


def test_move_resources_moves_webhooks_with_their_events(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    created = create_hook(api, workspace="team-a", name="moving")
    create_hook(api, workspace="team-a", name="staying")

    result = resources_move(
        source="team-a", target="team-b", resource_type="webhooks", names=["moving"]
    )

    assert result.total_rows == 2  # the webhook and its one event
    assert ok(api.call("GET", f"{HOOKS}/{created['webhook_id']}", workspace="team-b")) == {
        "webhook": created
    }
    assert [
        hook["name"] for hook in ok(api.call("GET", HOOKS, workspace="team-a"))["webhooks"]
    ] == ["staying"]


# --- Authorization (spec: auth.md, "webhooks (all) | admin only") --------------------------------


@pytest.mark.usefixtures("auth_settings")
def test_webhooks_are_admin_only_under_auth(api: ApiClient, team_a: Workspace) -> None:
    make_user("root", admin=True)
    manager = make_user("carol")
    WorkspacePermission.objects.create(for_workspace=team_a, user=manager, permission="MANAGE")
    body = {"name": "h", "url": LOOPBACK_URL, "events": [MODEL_VERSION_CREATED]}

    refused = [
        api.call("POST", HOOKS, body, workspace="team-a", headers=basic("carol")),
        api.call("GET", HOOKS, workspace="team-a", headers=basic("carol")),
    ]
    created = api.call("POST", HOOKS, body, workspace="team-a", headers=basic("root"))

    assert [response.status_code for response in refused] == [403, 403]
    assert {response.json()["error_code"] for response in refused} == {"PERMISSION_DENIED"}
    assert created.status_code == 200
