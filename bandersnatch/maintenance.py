"""Daily maintenance: delete what is kept only for a while.

Three chores, each deleting the rows past their time: prediction log entries
older than PREDICTION_LOG_RETENTION_DAYS, jobs that finished more than
JOB_RETENTION_DAYS ago, and expired sessions.  Rows go in batches of
MAINTENANCE_BATCH_SIZE, each in a short transaction of its own, so no lock is
held long and the site's own writes (the prediction log, the job queue) go on.

`manage.py maintenance` runs it by hand; `manage.py scheduler` runs it every
day through maintenance_daily(), which first claims the day in the database
so that several schedulers, on several hosts, run it once.  A day missed
(no scheduler running) is made up the next: every chore deletes by age.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ml.services import predictions_prune

from .db import delete_in_batches
from .models import Job, MaintenanceRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChoreResult:
    chore: str  # its name in CHORES
    deleted: int | None  # None: the session store cannot count what it cleared
    what: str  # e.g. "prediction log entries older than 90 days"
    seconds: float

    def __str__(self) -> str:
        count = "cleared" if self.deleted is None else f"deleted {self.deleted:,}"
        return f"{self.chore}: {count} {self.what} in {self.seconds:.1f} s"


def predictions_chore() -> tuple[int, str]:
    days = settings.PREDICTION_LOG_RETENTION_DAYS
    return predictions_prune(older_than_days=days), f"prediction log entries older than {days} days"


def jobs_prune(*, older_than_days: int) -> int:
    """Delete the jobs that finished (succeeded or failed) over N days ago; how many went.

    Queued and running jobs stay, however old.  Each job is two rows with one
    id, the queue's (DBTaskResult) and ours (Job), with no foreign key between
    them: a batch deletes both in one transaction, since a Job without its
    queue row cannot be shown.  Job rows left without one (by the library's
    prune_db_task_results) go too.
    """
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    finished = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff)
    deleted = delete_in_batches(
        finished, with_each=lambda batch: Job.objects.filter(pk__in=batch.values("pk")).delete()
    )
    orphans = Job.objects.filter(created_at__lt=cutoff).exclude(pk__in=DBTaskResult.objects.values("pk"))
    return deleted + delete_in_batches(orphans)


def jobs_chore() -> tuple[int, str]:
    days = settings.JOB_RETENTION_DAYS
    return jobs_prune(older_than_days=days), f"jobs finished more than {days} days ago"


def sessions_prune() -> int | None:
    """Delete the expired sessions; how many (None for a store that cannot count them).

    Django's database stores (db, cached_db) are cleared in batches; any other
    store clears itself (clear_expired(), a no-op for cookies and the cache).
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store, DatabaseSessionStore):
        expired = store.get_model_class().objects.filter(expire_date__lt=timezone.now())
        return delete_in_batches(expired)
    store.clear_expired()
    return None


def sessions_chore() -> tuple[int | None, str]:
    return sessions_prune(), "expired sessions"


# Each chore by name (`manage.py maintenance --only`), in the order they run.
CHORES: dict[str, Callable[[], tuple[int | None, str]]] = {
    "predictions": predictions_chore,
    "jobs": jobs_chore,
    "sessions": sessions_chore,
}


def maintenance_run(*, only: list[str] | None = None) -> list[ChoreResult]:
    """Run the chores (all, or those named in `only`), logging what each deleted."""
    results = []
    for name, chore in CHORES.items():
        if only is not None and name not in only:
            continue
        started = time.monotonic()
        deleted, what = chore()
        result = ChoreResult(chore=name, deleted=deleted, what=what, seconds=time.monotonic() - started)
        logger.info("Maintenance: %s", result, extra={"chore": name, "deleted": deleted})
        results.append(result)
    return results


def maintenance_claim(*, day: dt.date) -> MaintenanceRun | None:
    """Claim `day`'s maintenance for this process; None when another process claimed it first.

    One INSERT on a unique day: of any number of schedulers, exactly one gets
    the row (on PostgreSQL a second insert waits for the first to commit, then fails).
    """
    try:
        with transaction.atomic():
            return MaintenanceRun.objects.create(day=day, host=socket.gethostname(), pid=os.getpid())
    except IntegrityError:
        return None


def maintenance_daily() -> list[ChoreResult] | None:
    """What the scheduler runs each day: claim the day, then every chore; None if already claimed."""
    day = timezone.localdate()
    run = maintenance_claim(day=day)
    if run is None:
        logger.info("Maintenance of %s: another scheduler has claimed it, skipped.", day)
        return None
    results = maintenance_run()
    run.finished_at = timezone.now()
    run.deleted = {result.chore: result.deleted for result in results}
    run.save(update_fields=["finished_at", "deleted"])
    return results
