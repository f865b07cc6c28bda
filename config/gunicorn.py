"""gunicorn settings from the environment: MLFLOW_HOST, MLFLOW_PORT, MLFLOW_WORKERS, MLFLOW_THREADS.

Threaded workers (``gthread``) keep client connections alive between requests (the MLflow
client reuses one session) and let a worker serve another request while one waits on the
database; plain sync workers do neither.
"""

import os

bind = f"{os.environ.get('MLFLOW_HOST', '127.0.0.1')}:{os.environ.get('MLFLOW_PORT', '5000')}"
workers = int(os.environ.get("MLFLOW_WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("MLFLOW_THREADS", "4"))
keepalive = int(os.environ.get("MLFLOW_KEEPALIVE_SECONDS", "30"))
timeout = int(os.environ.get("MLFLOW_GUNICORN_TIMEOUT", "120"))
wsgi_app = "config.wsgi:application"
accesslog = os.environ.get("MLFLOW_ACCESS_LOG") or None
