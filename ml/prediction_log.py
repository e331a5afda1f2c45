"""The prediction log's writer: answers are queued and stored in batches off the request path.

A request only appends plain dicts (a PredictionLog's fields) to an in-process
queue; a background thread turns them into rows, one bulk INSERT per batch, every FLUSH_SECONDS or sooner when
BATCH_SIZE entries wait.  At exit the queue is written out.  With
PREDICTION_LOG_SYNC (the tests) entries are written at once instead.
"""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import io
import json
import logging
import threading

from django.conf import settings
from django.db import connection, models

from .models import PredictionLog

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
WAKE_AT = 10_000  # queued entries that wake the writer before its second is up
BATCH_SIZE = 1_000  # rows per INSERT where there is no COPY


class PredictionLogWriter:
    def __init__(self) -> None:
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, entries: list[dict]) -> None:
        """Queue log entries, each a dict of PredictionLog fields."""
        if settings.PREDICTION_LOG_SYNC:
            PredictionLog.objects.bulk_create([PredictionLog(**entry) for entry in entries])
            return
        with self._lock:
            self._pending.extend(entries)
            waiting = len(self._pending)
            if self._thread is None or not self._thread.is_alive():
                # Started lazily, so each forked server process gets its own.
                self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
                self._thread.start()
        if waiting >= WAKE_AT:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued now; the number of entries written."""
        with self._lock:
            entries, self._pending = self._pending, []
        if not entries:
            return 0
        connection.close_if_unusable_or_obsolete()  # this thread's connection may be stale
        try:
            _store(entries)
        except Exception:  # a log must never take the server down; say what was lost
            logger.exception("Could not store %d prediction log entries", len(entries))
            return 0
        return len(entries)

    def stop(self) -> None:
        """Write what is queued and end the background thread (at exit, and in tests)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=10)
        else:
            self.flush()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()
        self.flush()
        connection.close()


writer = PredictionLogWriter()
atexit.register(writer.stop)


def _store(entries: list[dict]) -> None:
    if connection.vendor != "postgresql":
        PredictionLog.objects.bulk_create(
            [PredictionLog(**entry) for entry in entries], batch_size=BATCH_SIZE
        )
        return
    fields = [field for field in PredictionLog._meta.concrete_fields if not field.primary_key]
    buffer = io.StringIO()
    rows = csv.writer(buffer)
    for entry in entries:
        rows.writerow([_csv_value(field, entry.get(field.name, field.get_default())) for field in fields])
    buffer.seek(0)
    table = connection.ops.quote_name(PredictionLog._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


def _csv_value(field: models.Field, value):
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
