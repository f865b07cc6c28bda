"""gunicorn settings from the environment: MLFLOW_HOST, MLFLOW_PORT, MLFLOW_WORKERS."""

import os

bind = f"{os.environ.get('MLFLOW_HOST', '127.0.0.1')}:{os.environ.get('MLFLOW_PORT', '5000')}"
workers = int(os.environ.get("MLFLOW_WORKERS", "4"))
threads = int(os.environ.get("MLFLOW_THREADS", "1"))
timeout = int(os.environ.get("MLFLOW_GUNICORN_TIMEOUT", "120"))
wsgi_app = "config.wsgi:application"
accesslog = os.environ.get("MLFLOW_ACCESS_LOG") or None
