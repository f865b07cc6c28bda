"""``manage.py issue_token <username>``: issue a bearer token (``MLFLOW_TRACKING_TOKEN``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config.errors import MlflowError
from permissions.selectors import user_get
from permissions.services import token_issue


class Command(BaseCommand):
    help = (
        "Issue a bearer token for a user and print it once; only its hash is stored. Clients "
        "send it with MLFLOW_TRACKING_TOKEN. Users and tokens belong to no workspace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label to tell tokens apart")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="no expiry when omitted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = user_get(options["username"])
        except MlflowError as error:
            raise CommandError(error.message) from None
        days = options["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days is not None else None
        secret = token_issue(user=user, name=options["name"], expires_at=expires_at)
        self.stdout.write(secret)
