"""Django settings, configured only from the environment.

Every setting has an embedded default that gives a working first run with nothing installed:
a SQLite file and a local artifact folder under ``MLFLOW_DATA_DIR`` (``./data``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config.database import database_from_url

django_stubs_ext.monkeypatch()  # Manager[M], ModelAdmin[M] and friends at run time

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_str(name: str, default: str) -> str:
    """The variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but a yes/no word is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def env_int(name: str, default: int) -> int:
    """An integer variable; anything else is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MLFLOW_DATA_DIR", "data")).resolve()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into a 0600 file and reused.

    Every process must share the key, so it is never generated per process.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / ".secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process wrote it first; read theirs
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [host.strip() for host in env_str("ALLOWED_HOSTS", "*").split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = [
    origin.strip() for origin in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if origin.strip()
]

# The server this product speaks for.
MLFLOW_VERSION = "3.17.2"
MLFLOW_ENABLE_WORKSPACES = env_bool("MLFLOW_ENABLE_WORKSPACES", True)
# How long a process reuses a workspace it resolved from the header (0: look it up every request).
# Changes made in the same process are seen at once; other processes see them within this bound.
MLFLOW_WORKSPACE_CACHE_SECONDS = env_int("MLFLOW_WORKSPACE_CACHE_SECONDS", 2)
# Where the artifact proxy keeps files: a local folder or s3://bucket/prefix.
MLFLOW_ARTIFACTS_DESTINATION = env_str(
    "MLFLOW_ARTIFACTS_DESTINATION", str(DATA_DIR / "mlartifacts")
)
# The root handed to clients in experiment locations; the proxy resolves it.
MLFLOW_DEFAULT_ARTIFACT_ROOT = env_str("MLFLOW_DEFAULT_ARTIFACT_ROOT", "mlflow-artifacts:/")

# --- Artifact storage (read by tracking/storage/ only) ---
# Any S3-compatible store: the endpoint and region come from the environment; boto3 finds the
# credentials itself (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles).
ARTIFACTS_S3_OPTIONS: dict[str, Any] = {
    "endpoint_url": env_str("MLFLOW_S3_ENDPOINT_URL", "")
    or env_str("AWS_ENDPOINT_URL_S3", "")
    or env_str("AWS_ENDPOINT_URL", "")
    or None,
    "region_name": env_str("AWS_DEFAULT_REGION", "") or env_str("AWS_REGION", "") or None,
    "addressing_style": env_str("MLFLOW_S3_ADDRESSING_STYLE", "") or None,
    "verify": None if env_bool("MLFLOW_S3_VERIFY", True) else False,
    "file_overwrite": True,
}


def artifacts_storage(destination: str, s3_options: dict[str, Any]) -> dict[str, Any]:
    """The ``STORAGES`` entry for an artifact destination: ``s3://bucket/prefix`` gives
    django-storages' ``S3Storage``, anything else a local ``FileSystemStorage`` folder."""
    if destination.startswith("s3://"):
        bucket, _, prefix = destination.removeprefix("s3://").partition("/")
        options = {**s3_options, "bucket_name": bucket, "location": prefix.strip("/")}
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    folder = Path(destination.removeprefix("file://")).expanduser().resolve()
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(folder), "allow_overwrite": True},
    }


# Authentication and permissions (permissions app): MLflow 3.10's basic-auth with workspaces.
# spec: auth-workspace-permissions.md §1. Off by default: every request is then allowed.
MLFLOW_AUTH_ENABLED = env_bool("MLFLOW_AUTH_ENABLED", False)
# The admin created on start when no user of that name exists; no password, no admin.
MLFLOW_AUTH_ADMIN_USERNAME = env_str("MLFLOW_AUTH_ADMIN_USERNAME", "admin")
MLFLOW_AUTH_ADMIN_PASSWORD = env_str("MLFLOW_AUTH_ADMIN_PASSWORD", "")
# The level used when no row applies: everywhere without workspaces, else only in 'default'
# and only with MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS.
MLFLOW_AUTH_DEFAULT_PERMISSION = env_str("MLFLOW_AUTH_DEFAULT_PERMISSION", "READ")
MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = env_bool(
    "MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS", False
)
# Failed password checks per (username, client address) before that pair is refused for the
# rest of the window (counted in the database, so across processes).
MLFLOW_AUTH_MAX_FAILED_LOGINS = env_int("MLFLOW_AUTH_MAX_FAILED_LOGINS", 10)
MLFLOW_AUTH_FAILED_LOGIN_WINDOW_SECONDS = env_int("MLFLOW_AUTH_FAILED_LOGIN_WINDOW_SECONDS", 300)
# How long a process trusts a password it has verified (0: hash every request).
MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS = env_int("MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS", 60)
# How long a process reuses a permission check it granted (0: check every request). The
# revocation delay: other processes see a revoked permission, deleted user or new password
# within it; the process that made the change sees it at once.
MLFLOW_AUTH_DECISION_CACHE_SECONDS = env_int("MLFLOW_AUTH_DECISION_CACHE_SECONDS", 2)
if MLFLOW_AUTH_DEFAULT_PERMISSION not in ("READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"):
    raise ImproperlyConfigured(
        "MLFLOW_AUTH_DEFAULT_PERMISSION must be READ, USE, EDIT, MANAGE or NO_PERMISSIONS, "
        f"got {MLFLOW_AUTH_DEFAULT_PERMISSION!r}."
    )
if MLFLOW_AUTH_ADMIN_PASSWORD and len(MLFLOW_AUTH_ADMIN_PASSWORD) < 12:
    raise ImproperlyConfigured("MLFLOW_AUTH_ADMIN_PASSWORD must be at least 12 characters.")

# --- Webhooks (registry/webhooks/, read there only) ---
# MLflow's variable names. A webhook URL must use one of these schemes (https only by default)
# and resolve to public addresses; MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true also allows loopback,
# private and link-local targets (local development only: it turns SSRF protection off).
MLFLOW_WEBHOOK_ALLOWED_SCHEMES = [
    scheme.strip().lower()
    for scheme in env_str("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "https").split(",")
    if scheme.strip()
]
if (
    not {"http", "https"} >= set(MLFLOW_WEBHOOK_ALLOWED_SCHEMES)
    or not MLFLOW_WEBHOOK_ALLOWED_SCHEMES
):
    raise ImproperlyConfigured(
        f"MLFLOW_WEBHOOK_ALLOWED_SCHEMES must list http and/or https, got "
        f"{MLFLOW_WEBHOOK_ALLOWED_SCHEMES}."
    )
MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = env_bool("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", False)
# PEM file of the certificate authorities HTTPS targets are verified against instead of the
# system's trust store (e.g. an internal CA); empty: the system's trust store.
MLFLOW_WEBHOOK_CA_BUNDLE = env_str("MLFLOW_WEBHOOK_CA_BUNDLE", "")
# Seconds each connect or read of a delivery may take.
MLFLOW_WEBHOOK_REQUEST_TIMEOUT = env_int("MLFLOW_WEBHOOK_REQUEST_TIMEOUT", 30)
# Retries after a failed delivery (network error, 408, 429, 5xx), each after a backoff that
# starts at MLFLOW_WEBHOOK_RETRY_BACKOFF_MS and doubles up to MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS
# (a Retry-After header is honoured up to that cap).
MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES = env_int("MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", 3)
MLFLOW_WEBHOOK_RETRY_BACKOFF_MS = env_int("MLFLOW_WEBHOOK_RETRY_BACKOFF_MS", 1000)
MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS = env_int("MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS", 60_000)
# Deliveries sent at once per process; the background worker of each process also looks for
# due deliveries (retries, or rows a stopped process left behind) this often.
MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS = env_int("MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS", 10)
MLFLOW_WEBHOOK_POLL_SECONDS = env_int("MLFLOW_WEBHOOK_POLL_SECONDS", 10)
if (
    min(
        MLFLOW_WEBHOOK_REQUEST_TIMEOUT,
        MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS,
        MLFLOW_WEBHOOK_POLL_SECONDS,
    )
    < 1
):
    raise ImproperlyConfigured(
        "MLFLOW_WEBHOOK_REQUEST_TIMEOUT, MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS and "
        "MLFLOW_WEBHOOK_POLL_SECONDS must be at least 1."
    )
if (
    min(
        MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES,
        MLFLOW_WEBHOOK_RETRY_BACKOFF_MS,
        MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS,
    )
    < 0
):
    raise ImproperlyConfigured(
        "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES and the MLFLOW_WEBHOOK_RETRY_BACKOFF_* settings "
        "must not be negative."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "workspaces",
    "tracking",
    "registry",
    "permissions",
]

MIDDLEWARE = [
    # First, so it times the whole stack: request counts, latencies, JSON request log.
    "config.observability.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "workspaces.middleware.WorkspaceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "permissions.middleware.AuthMiddleware",  # plain views and after-request permission hooks
]

# MLflow paths have no trailing slash and the client follows redirects without the POST body.
APPEND_SLASH = False
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'mlflow.db'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        # The API's rule (permissions/validators.py), so the admin's forms agree with it.
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "artifacts": artifacts_storage(MLFLOW_ARTIFACTS_DESTINATION, ARTIFACTS_S3_OPTIONS),
}

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "requests": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Our error handlers log what they answer; Django's own request logger would repeat it.
        "django.request": {"level": "CRITICAL"},
        # One JSON line per request (config/observability.py); WARNING turns them off.
        "mlflow.requests": {
            "handlers": ["requests"],
            "level": env_str("MLFLOW_REQUEST_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
