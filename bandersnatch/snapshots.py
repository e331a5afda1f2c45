"""Results computed from the whole of the data, kept per data version and shared by every process.

An app registers what it precomputes (snapshots_register, in its AppConfig.ready);
after every data change one background job (tasks.refresh_snapshots) brings each
of them up to date, and
pages read the stored value instead of computing it while a visitor waits.
The kernel knows no app: each registered function decides its own name and
data version and calls snapshot_store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import Snapshot

logger = logging.getLogger(__name__)

KEEP_VERSIONS = 2  # per name: the current one, and the one before while the next is computed
# What a snapshot holds is shaped by the code that computed it (a figure's parts, a profile's
# fields): bump this when that shape changes, and values stored by earlier code are computed
# again instead of served.  2: figures carry their text alternative and no colour scale;
# 3: their subtitle apart (no "<sup>" markup, which the Content-Security-Policy refuses).
FORMAT = 3
_PRECOMPUTED: dict[str, Callable[[], None] | str] = {}


def snapshots_register(*paths: str) -> None:
    """Run the functions at these dotted paths after every data change (each stores its own snapshots).

    Given as paths, so that start-up imports none of them (charts, statistics).
    """
    for path in paths:
        _PRECOMPUTED[path] = path


def snapshots_refresh() -> list[str]:
    """Run every registered precomputation; the names of those that failed (each one logged)."""
    failed = []
    for name, function in _PRECOMPUTED.items():
        try:
            (import_string(function) if isinstance(function, str) else function)()
        except Exception:  # one failing precomputation must not keep the others from running
            logger.exception("Precomputing %s failed", name)
            failed.append(name)
    return failed


def snapshots_refresh_after_commit() -> None:
    """Queue the refresh job when the current transaction commits (once, if one is already waiting)."""
    transaction.on_commit(_enqueue_refresh)


def _enqueue_refresh() -> None:
    from django_tasks_db.models import DBTaskResult

    from . import tasks

    waiting = DBTaskResult.objects.ready().filter(task_path=tasks.refresh_snapshots.module_path)
    if not waiting.exists():
        tasks.refresh_snapshots.enqueue()


def _stored(data_version: str) -> str:
    """The data version as stored: with the FORMAT of the code that computed the value."""
    return f"{data_version}/{FORMAT}"


def snapshot_read(name: str, data_version: str):
    """The stored value of `name` at `data_version`, or None."""
    row = Snapshot.objects.filter(name=name, data_version=_stored(data_version)).values_list(
        "value", flat=True
    )
    return row.first()


def snapshot_latest(name: str) -> Snapshot | None:
    """The newest snapshot of `name`, whatever its data version (for a page that says so)."""
    return Snapshot.objects.filter(name=name).first()


def snapshot_store(name: str, data_version: str, value, *, seconds: float) -> None:
    """Keep `value` as `name` at `data_version`, and forget versions older than KEEP_VERSIONS."""
    try:
        with transaction.atomic():
            Snapshot.objects.create(
                name=name, data_version=_stored(data_version), value=value, seconds=seconds
            )
    except IntegrityError:  # another process stored the same version meanwhile: the same value
        return
    old = Snapshot.objects.filter(name=name).values_list("pk", flat=True)[KEEP_VERSIONS:]
    Snapshot.objects.filter(pk__in=list(old)).delete()


def snapshot_compute(name: str, version: Callable[[], str], compute: Callable[[], object]):
    """`name` at the data version `version()` gives: stored, else computed by `compute()` and stored.

    When the data change while it is being computed, the value is returned
    but not stored: it describes neither version (the next refresh follows).
    """
    data_version = version()
    value = snapshot_read(name, data_version)
    if value is None:
        started = time.perf_counter()
        value = compute()
        seconds = time.perf_counter() - started
        if version() == data_version:
            snapshot_store(name, data_version, value, seconds=seconds)
        logger.info("Computed %s for data version %s in %.2f s", name, data_version, seconds)
    return value
