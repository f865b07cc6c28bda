"""Deciding one request: authenticate the caller, run the one query (user, password hash,
levels on the resource and its workspace), decide, and remember grants
(``permissions.decisions``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest

from config.errors import PermissionDeniedError, UnauthenticatedError
from config.sql import quoted_column as _column
from config.sql import quoted_table as _table
from config.wire import missing_value
from permissions.access.requirements import CAPABILITY_LEVELS, Requirement
from permissions.access.targets import RequestParams, Resource, Target, resource_of, target_of
from permissions.authentication import (
    PERMISSION_DENIED_MESSAGE,
    UNAUTHENTICATED_MESSAGE,
    client_ip,
    credentials_from_header,
    credentials_verify,
    ensure_bootstrap_admin,
)
from permissions.decisions import decisions
from permissions.models import (
    WorkspacePermission,
)
from permissions.selectors import USER_PK, Column, user_with_columns
from workspaces.models import DEFAULT_WORKSPACE, Workspace

# Where ``authorize`` leaves a granted check on the request, for the after-request hooks.
GRANT_ATTRIBUTE = "permission_grant"


# A granted capability implies those whose levels include all of its levels (update → read).
IMPLIED_CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    capability: tuple(
        other
        for other, levels in CAPABILITY_LEVELS.items()
        if CAPABILITY_LEVELS[capability] <= levels
    )
    for capability in CAPABILITY_LEVELS
}


# Resources whose rule is monotone in the level (every ``decide`` over experiments): a grant of
# a capability there is a grant of every capability it implies. Not ``workspace_name``, whose
# READ follows the workspace list rather than the level.
IMPLYING_RESOURCES = frozenset({"experiment", "experiment_name", "run", "logged_model"})


Caller = tuple[bytes, str]  # (digest of the Authorization header, client address)


def _decision_key(
    caller: Caller, workspace_pk: int | None, kind: str, capability: str, resource: Any
) -> tuple[Any, ...]:
    return (caller, workspace_pk, kind, capability, resource)


@dataclass(frozen=True)
class Grant:
    """A granted check of a non-admin, kept on the request (``GRANT_ATTRIBUTE``) so that the
    after-request hooks can remember what a successful create implies."""

    caller: Caller
    workspace_pk: int | None
    capability: str
    resource: Resource
    user: User
    generation: int  # of the remembered decisions when the check was made
    deadline: float  # nothing learned from this grant is remembered longer


def authorize(
    request: HttpRequest, requirement: Requirement | None, kwargs: Mapping[str, Any]
) -> User | None:
    """Authenticate the caller and apply ``requirement``; returns the user (None if public).

    Raises ``UnauthenticatedError`` (401) or ``PermissionDeniedError`` (403). One query
    fetches the user with every permission column the decision needs, unless this process
    granted the same request shortly before (``permissions.decisions``). ``None`` (an action
    without a declaration) lets only admins through.
    """
    if requirement is not None and requirement.kind == "public":
        return None
    header = request.META.get("HTTP_AUTHORIZATION")
    credentials = credentials_from_header(header)
    if header is None or credentials is None:
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    workspace: Workspace | None = getattr(request, "workspace", None)
    workspace_pk = workspace.pk if workspace is not None else None
    kind = "undeclared" if requirement is None else requirement.kind
    capability = requirement.capability if requirement is not None else ""
    resource: Resource | None = None
    if requirement is not None and kind == "resource":
        resource = resource_of(requirement, request, kwargs, workspace)
    elif kind == "self":
        resource = ("self", RequestParams(request).value("username") or "")
    caller: Caller = (decisions.credentials_key(header), client_ip(request))
    key = _decision_key(caller, workspace_pk, kind, capability, resource)
    generation = decisions.generation  # before reading: a later forget makes learning void
    remembered = decisions.get(key) or decisions.get(caller)
    if remembered is not None:
        user, deadline = remembered
        request.user = user
        if kind == "resource" and resource is not None and not user.is_superuser:
            grant = Grant(caller, workspace_pk, capability, resource, user, generation, deadline)
            setattr(request, GRANT_ATTRIBUTE, grant)
        return user
    ensure_bootstrap_admin()
    target: Target | None = None
    columns: list[Column] = []
    if requirement is not None and resource is not None and kind == "resource":
        target = target_of(resource, workspace, capability)
        if workspace is not None and settings.MLFLOW_ENABLE_WORKSPACES:
            columns.append(_own_workspace_level(workspace))
        columns.extend(target.columns)
    found = user_with_columns(credentials, caller[1], columns)
    if found is None or not credentials_verify(found[0], credentials, caller[1], found[1]):
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    user, row = found
    request.user = user  # known from here on, so request logs name a refused caller too
    deadline = decisions.deadline(row.get("token_expires_at"))
    if user.is_superuser:
        decisions.put(caller, user, generation, deadline)
        return user
    if not _allowed(requirement, target, row, user, request, workspace):
        raise PermissionDeniedError(PERMISSION_DENIED_MESSAGE)
    if kind == "resource" and resource is not None:
        grant = Grant(caller, workspace_pk, capability, resource, user, generation, deadline)
        setattr(request, GRANT_ATTRIBUTE, grant)
        _remember(grant, resource, capability)
    else:
        decisions.put(key, user, generation, deadline)
    return user


def _remember(grant: Grant, resource: Resource, capability: str) -> None:
    """Remember that ``grant``'s caller may do ``capability`` (and what it implies) on
    ``resource`` in ``grant``'s workspace, for no longer than ``grant`` itself."""
    implied = IMPLIED_CAPABILITIES[capability] if resource[0] in IMPLYING_RESOURCES else ()
    for each in implied or (capability,):
        key = _decision_key(grant.caller, grant.workspace_pk, "resource", each, resource)
        decisions.put(key, grant.user, grant.generation, grant.deadline)


def remember_created_experiment(request: HttpRequest, experiment_id: str) -> None:
    """After the creator's MANAGE row on a new experiment is written (spec §9): the creator
    may do everything on it, as the one query would find."""
    grant: Grant | None = getattr(request, GRANT_ATTRIBUTE, None)
    if grant is not None:
        _remember(grant, ("experiment", (experiment_id,)), "manage")


def remember_created_run(request: HttpRequest, run_id: str, experiment_id: str) -> None:
    """After a run is created in an experiment the caller was granted: the same capabilities
    on the run, which the one query would resolve through the run's experiment."""
    grant: Grant | None = getattr(request, GRANT_ATTRIBUTE, None)
    if grant is not None and grant.resource == ("experiment", (experiment_id,)):
        _remember(grant, ("run", (run_id,)), grant.capability)


def _own_workspace_level(workspace: Workspace) -> Column:
    return Column(
        "ws_level",
        f"SELECT p.{_column(WorkspacePermission, 'permission')} "  # noqa: S608 (identifiers quoted, values bound)
        f"FROM {_table(WorkspacePermission)} p "
        f"WHERE p.{_column(WorkspacePermission, 'user')} = u.{USER_PK} "
        f"AND p.{_column(WorkspacePermission, 'for_workspace')} = %s",
        (workspace.pk,),
    )


def _allowed(
    requirement: Requirement | None,
    target: Target | None,
    row: Mapping[str, Any],
    user: User,
    request: HttpRequest,
    workspace: Workspace | None,
) -> bool:
    if requirement is None or requirement.kind == "admin":
        return False
    if requirement.kind == "authenticated":
        return True
    if requirement.kind == "self":
        username = RequestParams(request).value("username")
        if username is None:
            raise missing_value("username")
        return username == user.username
    assert target is not None  # "resource" requirements always locate a target
    workspace_name = workspace.name if workspace is not None else DEFAULT_WORKSPACE
    return target.decide({"ws_level": None, **row}, workspace_name)
