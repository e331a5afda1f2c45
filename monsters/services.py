"""Everything that writes monsters, and the CSV export that reads them back."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from analytics.export import csv_rows
from bandersnatch.audit import audit_record
from bandersnatch.models import AuditEntry
from bandersnatch.snapshots import snapshots_refresh_after_commit

from .generator import COLUMNS, generate_chunks
from .loading import monsters_load
from .models import DataVersion, Monster

logger = logging.getLogger(__name__)

SEED_CHUNK_SIZE = 100_000
EXPORT_COLUMNS = (*COLUMNS, "created_at")
# The export's text columns (the rest are numbers and times, written as they are).
EXPORT_TEXT_COLUMNS = tuple(
    column for column in EXPORT_COLUMNS if Monster._meta.get_field(column).get_internal_type() == "CharField"
)


def data_version_bump() -> None:
    """Mark the monster data as changed, so caches built on it are rebuilt."""
    bumped = DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(
        number=F("number") + 1, changed_at=timezone.now()
    )
    if not bumped:  # the row a migration makes is gone (a flushed database): start again
        DataVersion.objects.get_or_create(pk=DataVersion.SINGLETON, defaults={"number": 1})
    snapshots_refresh_after_commit()


def monsters_seed(
    *,
    count: int,
    seed: int | None = None,
    reset: bool = False,
    on_progress: Callable[[int], None] | None = None,
    actor=None,
    wait: float | None = None,
) -> int:
    """Add `count` generated monsters (after emptying the table if `reset`).

    All or nothing, the audit entry included, and readers see the old rows
    until the new ones are in (see loading.py).  The same seed gives the same
    monsters.  `actor`: the user who asked (None: a command).  `wait`: how
    long to wait for another load (LoadBusy after that; None: as long as it takes).
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    started = time.perf_counter()

    def chunks() -> Iterator[pd.DataFrame]:
        done = 0
        for chunk in generate_chunks(count, rng=np.random.default_rng(seed), chunk_size=SEED_CHUNK_SIZE):
            yield chunk
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)

    def record() -> None:
        data_version_bump()
        seeded = f"{count:,} monsters" + (f" (seed {seed})" if seed is not None else "")
        audit_record(
            action=AuditEntry.Action.RESET if reset else AuditEntry.Action.SEED,
            summary=f"Replaced every monster with {seeded}" if reset else f"Added {seeded}",
            actor=actor,
            count=count,
            seed=seed,
        )

    created_at = {"created_at": timezone.now()}
    monsters_load(chunks(), rows=count, replace=reset, record=record, constants=created_at, wait=wait)
    logger.info(
        "Seeded %d monsters (reset=%s, seed=%s) in %.2f s", count, reset, seed, time.perf_counter() - started
    )
    return count


def monsters_export_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The CSV header, then one tuple per monster, streamed, text made spreadsheet-safe (analytics.export)."""
    return csv_rows(queryset, EXPORT_COLUMNS, EXPORT_TEXT_COLUMNS)


def monsters_frame(columns=(*COLUMNS,), queryset: QuerySet | None = None) -> pd.DataFrame:
    """Monsters as a DataFrame, straight from the database (no model objects).

    On PostgreSQL the rows stream out with COPY as CSV into pandas' C parser:
    a million rows in about a second, where ORM objects take ten times that.
    """
    queryset = (queryset if queryset is not None else Monster.objects.all()).order_by("pk")
    columns = list(columns)
    for column in columns:
        Monster._meta.get_field(column)  # FieldDoesNotExist for anything else
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)
    sql, params = queryset.values_list(*columns).query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    kinds = {column: Monster._meta.get_field(column).get_internal_type() for column in columns}
    return pd.read_csv(
        buffer,
        names=columns,
        header=None,
        dtype={column: "category" for column, kind in kinds.items() if kind == "CharField"},
        parse_dates=[column for column, kind in kinds.items() if kind == "DateTimeField"],
        keep_default_na=False,
    )
