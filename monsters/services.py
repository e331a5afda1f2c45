"""Everything that writes monsters, and the CSV export that reads them back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from django.db.models import F, QuerySet
from django.utils import timezone

from analytics.datasets import dataset_builtin_register
from analytics.export import csv_rows
from analytics.frames import rows_frame
from analytics.models import Dataset
from bandersnatch.audit import audit_record
from bandersnatch.models import AuditEntry
from bandersnatch.snapshots import snapshots_refresh_after_commit

from .columns import COLUMN, MONSTER_COLUMNS
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


def data_version_bump(*, replaced: bool = False) -> None:
    """Mark the monster data as changed, so caches built on it are rebuilt.

    `replaced`: every monster was replaced (a reseed, a replacing import), so
    the monsters' dataset enters its next generation and the model versions
    trained on an earlier one say so (Dataset.generation).  In the caller's
    transaction, beside the change itself.
    """
    bumped = DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(
        number=F("number") + 1, changed_at=timezone.now()
    )
    if not bumped:  # the row a migration makes is gone (a flushed database): start again
        DataVersion.objects.get_or_create(pk=DataVersion.SINGLETON, defaults={"number": 1})
    if replaced:
        Dataset.objects.filter(pk=monsters_dataset().pk).update(generation=F("generation") + 1)
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
        data_version_bump(replaced=reset)
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


DATASET_DESCRIPTION = (
    "Randomly generated monsters: the built-in demo dataset. Resources and damage grow with level "
    "and rank; rarer monsters are stronger."
)


def monsters_dataset_register() -> Dataset:
    """The monsters are the built-in dataset (slug "monsters"), described by their column description."""
    return dataset_builtin_register(
        slug="monsters", name="Monsters", table=Monster._meta.db_table, columns=MONSTER_COLUMNS,
        description=DATASET_DESCRIPTION,
    )  # fmt: skip


def monsters_dataset() -> Dataset:
    """The monsters' Dataset row, registered first if a flushed test database lost it."""
    return Dataset.objects.filter(slug="monsters", is_builtin=True).first() or monsters_dataset_register()


def monsters_frame(columns=(*COLUMNS,), queryset: QuerySet | None = None) -> pd.DataFrame:
    """Monsters as a DataFrame, straight from the database (analytics.frames)."""
    return rows_frame(queryset if queryset is not None else Monster.objects.all(),
                      tuple(COLUMN[name] for name in columns))  # fmt: skip
