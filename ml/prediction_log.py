"""The prediction log's writer: answers are queued and stored in batches off the request path.

A request only appends plain dicts (a PredictionLog's fields) to an in-process
queue; a background thread stores them, one COPY (bulk INSERTs elsewhere) per
batch, every FLUSH_SECONDS or sooner when WAKE_AT entries wait.

While the database is away a failed batch goes back to the front of the
queue and is tried again after a backoff (0.5 s, doubling up to 30 s), so
an outage loses nothing unless more than PREDICTION_LOG_MAX_PENDING entries
pile up: then the oldest are dropped, counted in `dropped` and logged.  A
stop (at exit) writes out the queue, trying for up to STOP_WAIT_SECONDS.
What a killed process had queued (its last second or so) is lost.  With
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
import time

from django.conf import settings
from django.db import connection, models

from bandersnatch.db import DATABASE_UNAVAILABLE, Backoff, error_line

from .models import PredictionLog

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
WAKE_AT = 10_000  # queued entries that wake the writer before its second is up
BATCH_SIZE = 1_000  # rows per INSERT where there is no COPY
STOP_WAIT_SECONDS = 10.0  # how long a stop keeps trying while the database is away


class PredictionLogWriter:
    def __init__(self) -> None:
        self._pending: list[dict] = []  # oldest first
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = Backoff()
        self.retry_in = 0.0  # seconds until the next try of a failed batch; 0 when all is well
        self.dropped = 0  # entries given up on since the process started
        self._overflowed = 0  # of those, dropped over the bound and not yet logged

    def add(self, entries: list[dict]) -> None:
        """Queue log entries, each a dict of PredictionLog fields."""
        if settings.PREDICTION_LOG_SYNC:
            PredictionLog.objects.bulk_create([PredictionLog(**entry) for entry in entries])
            return
        with self._lock:
            self._pending.extend(entries)
            self._bound()
            waiting = len(self._pending)
            if self._thread is None or not self._thread.is_alive():
                # Started lazily, so each forked server process gets its own.
                self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
                self._thread.start()
        if waiting >= WAKE_AT:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued now; the number of entries written.

        When the database is away the entries go back to the front of the
        queue and `retry_in` says when to try again.
        """
        with self._lock:
            entries, self._pending = self._pending, []
            overflowed, self._overflowed = self._overflowed, 0
        if overflowed:
            logger.warning(
                "Dropped the %d oldest prediction log entries: more than %d waited for the database "
                "(%d dropped since the process started).",
                overflowed, settings.PREDICTION_LOG_MAX_PENDING, self.dropped,
            )  # fmt: skip
        if not entries:
            return 0
        connection.close_if_unusable_or_obsolete()  # this thread's connection may be stale
        try:
            _store(entries)
        except DATABASE_UNAVAILABLE as exc:
            with self._lock:
                self._pending[:0] = entries
                self._bound()
            self.retry_in = self._backoff.failed()
            logger.warning(
                "Could not store %d prediction log entries (%s); trying again in %.1f s.",
                len(entries), error_line(exc), self.retry_in,
            )  # fmt: skip
            return 0
        except Exception:  # bad entries: trying again cannot help, and a log must not stop the server
            with self._lock:
                self.dropped += len(entries)
            logger.exception("Could not store %d prediction log entries; dropped them", len(entries))
            return 0
        if self._backoff.failures:
            logger.warning("The database is back: stored %d queued prediction log entries.", len(entries))
        self._backoff.succeeded()
        self.retry_in = 0.0
        return len(entries)

    def stop(self) -> None:
        """Write what is queued and end the background thread (at exit, and in tests)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS + 5)
        else:
            self._write_out()

    def _bound(self) -> None:
        """Drop the oldest entries past PREDICTION_LOG_MAX_PENDING (with the lock held)."""
        excess = len(self._pending) - settings.PREDICTION_LOG_MAX_PENDING
        if excess > 0:
            del self._pending[:excess]
            self.dropped += excess
            self._overflowed += excess

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self.retry_in:  # the database is away: wait it out (a stop ends the wait)
                self._stopping.wait(self.retry_in)
            else:
                self._wake.wait(FLUSH_SECONDS)
                self._wake.clear()
            self.flush()
        self._write_out()

    def _write_out(self) -> None:
        """Write the whole queue, trying for up to STOP_WAIT_SECONDS while the database is away."""
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while True:
            self.flush()
            with self._lock:
                left = len(self._pending)
            if not left:
                break
            if not self.retry_in:  # written, but more came meanwhile
                continue
            pause = min(self.retry_in, deadline - time.monotonic())
            if pause <= 0:
                with self._lock:
                    self._pending.clear()
                    self.dropped += left
                logger.warning(
                    "Dropped %d prediction log entries at exit: the database did not answer for %.0f s.",
                    left, STOP_WAIT_SECONDS,
                )  # fmt: skip
                break
            time.sleep(pause)
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
    # In CSV an empty field is NULL; a text column that takes no NULL reads it as "" instead.
    texts = ", ".join(
        connection.ops.quote_name(field.column)
        for field in fields
        if isinstance(field, (models.CharField, models.TextField)) and not field.null
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:  # Django's errors, as for a query
        cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({texts}))", buffer
        )


def _csv_value(field: models.Field, value):
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
