"""The database floor for log-batch: the same rows written straight into PostgreSQL.

One log-batch request of the benchmark carries 1000 metrics, 10 params and 10 tags. The floor
is the time psycopg needs to ``executemany`` those rows into three plain tables shaped like
MLflow's ``metrics``, ``params`` and ``tags`` (same columns and primary keys, no foreign keys,
no latest-metric upkeep) in one committed transaction. No server can do a log-batch faster than
this, so ``log-batch latency / floor`` shows how much the server adds on top of the database.
"""

from __future__ import annotations

import statistics
import time
import uuid

import psycopg

from bench.servers import database_url, drop_database, recreate_database
from bench.workload import BatchRows

DATABASE = "bench_floor"

SCHEMA = [
    """CREATE TABLE metrics (
        key VARCHAR(250) NOT NULL, value DOUBLE PRECISION NOT NULL, timestamp BIGINT NOT NULL,
        run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL,
        PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan))""",
    """CREATE TABLE params (
        key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
        PRIMARY KEY (key, run_uuid))""",
    """CREATE TABLE tags (
        key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL,
        PRIMARY KEY (key, run_uuid))""",
]
INSERT_METRIC = (
    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
    "VALUES (%s, %s, %s, %s, %s, false)"
)
INSERT_PARAM = "INSERT INTO params (key, value, run_uuid) VALUES (%s, %s, %s)"
INSERT_TAG = "INSERT INTO tags (key, value, run_uuid) VALUES (%s, %s, %s)"


class Floor:
    """A connection to a scratch database that times one log-batch worth of inserts."""

    def __init__(self, rows: BatchRows) -> None:
        """Create the scratch database and tables; ``rows`` is the batch to insert."""
        self.rows = rows
        recreate_database(DATABASE)
        self.conn = psycopg.connect(database_url(DATABASE))
        with self.conn.transaction():
            for statement in SCHEMA:
                self.conn.execute(statement)

    def insert_once(self) -> float:
        """Insert the batch for a fresh run id in one transaction; return seconds taken."""
        run_uuid = uuid.uuid4().hex
        metrics = [(k, v, ts, run_uuid, step) for (k, v, ts, step) in self.rows.metrics]
        params = [(k, v, run_uuid) for (k, v) in self.rows.params]
        tags = [(k, v, run_uuid) for (k, v) in self.rows.tags]
        started = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(INSERT_METRIC, metrics)
            cur.executemany(INSERT_PARAM, params)
            cur.executemany(INSERT_TAG, tags)
        return time.perf_counter() - started

    def measure(self, repeats: int) -> float:
        """Return the median seconds of ``repeats`` timed inserts (after one warm-up)."""
        self.insert_once()
        return statistics.median(self.insert_once() for _ in range(repeats))

    def close(self) -> None:
        """Close the connection and drop the scratch database."""
        self.conn.close()
        drop_database(DATABASE)
