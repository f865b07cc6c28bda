"""``manage.py db_upgrade`` migrates, ensures the default workspace, and is idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tracking.models import Experiment
from workspaces.context import across_workspaces
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_db_upgrade_recreates_the_default_workspace_and_is_idempotent() -> None:
    with across_workspaces("test: start from a database without the default workspace"):
        Experiment.objects.all().delete()
    Workspace.objects.all().delete()
    first, second = StringIO(), StringIO()

    call_command("db_upgrade", stdout=first)
    call_command("db_upgrade", stdout=second)

    assert list(Workspace.objects.values_list("name", "description")) == [
        ("default", "Default workspace for legacy resources")
    ]
    assert "Database schema is up to date." in first.getvalue()
    assert "Created the 'default' workspace." in first.getvalue()
    assert "The 'default' workspace exists." in second.getvalue()
