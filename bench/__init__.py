"""Tracking benchmark: the same HTTP workload against this server and the reference MLflow server.

Run it with ``.venv/bin/python -m bench`` from the repository root; see ``bench/README.md``.
"""
