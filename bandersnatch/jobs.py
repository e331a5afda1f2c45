"""Background jobs: start one, run it, read its state.

The queue is django-tasks with its database backend (the `db_worker` command
runs the jobs).  A worker killed mid-job leaves its row "running" for ever;
job_state() notices that the worker is gone and records the job as failed.
On PostgreSQL a running job holds an advisory lock, which the server drops
with the worker's connection, so this works across machines; elsewhere the
worker's process id is checked on its own machine.  Every job does its
writes in one transaction, so a killed job has changed nothing.

Each worker checks in every few seconds (worker_check_in); jobs that wait
longer than JOB_WORKER_STALE_SECONDS make job_queue_health() stalled when no
worker has checked in for as long, or when a worker that checks in has taken
no job for as long while idle (its loop is stuck, or it serves another
queue); /api/health, /ops/ and /metrics report it.  A worker busy with a long
job is not stalled: the jobs wait their turn.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.timesince import timesince
from django_tasks import TaskContext, TaskResultStatus, default_task_backend
from django_tasks_db.models import DBTaskResult

from .models import Job, WorkerHeartbeat

logger = logging.getLogger(__name__)

FOLLOWED = "bandersnatch.followed_jobs"  # session key: jobs to tell the user about
WORKER_LOST = "bandersnatch.jobs.WorkerLost"
CANCELLED = "bandersnatch.jobs.Cancelled"
WORKER_LOST_MESSAGE = (
    "The worker running this job stopped (it was killed or crashed) before the job finished. "
    "Its changes were rolled back: the data and the models are as they were."
)
HEARTBEAT_SECONDS = 5  # how often a running worker checks in
PROGRESS_SECONDS = 0.5  # how often a job's progress is written at most
FORGET_WORKERS_AFTER = dt.timedelta(days=1)  # killed workers never check out
STATUS_NAMES = {
    TaskResultStatus.READY: "queued",
    TaskResultStatus.RUNNING: "running",
    TaskResultStatus.SUCCESSFUL: "succeeded",
    TaskResultStatus.FAILED: "failed",
}


@dataclass
class JobState:
    job: Job
    status: str  # queued, running, succeeded or failed
    enqueued_at: object
    started_at: object
    finished_at: object
    result: object = None  # what the job returned, when it succeeded
    error: str = ""  # one line, when it failed
    traceback: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    @property
    def seconds(self) -> float | None:
        """How long it ran, once finished (None if it never started)."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass
class QueueHealth:
    """Whether queued jobs wait for a worker that is not there, or that takes none."""

    waiting: int  # jobs queued for longer than stale_seconds
    last_check_in: dt.datetime | None  # the latest of any worker's
    worker_seen: bool  # some worker checked in within stale_seconds
    stale_seconds: int
    idle_workers: int = 0  # of those seen, idle for stale_seconds while jobs waited: stuck

    @property
    def stalled(self) -> bool:
        return self.waiting > 0 and (not self.worker_seen or self.idle_workers > 0)

    @property
    def message(self) -> str:
        jobs = "1 job has" if self.waiting == 1 else f"{self.waiting} jobs have"
        if self.worker_seen:
            workers = (
                "a worker that checks in has"
                if self.idle_workers == 1
                else (f"{self.idle_workers} workers that check in have")
            )
            return (
                f"{jobs} waited more than {self.stale_seconds} s while {workers} taken no job for as "
                "long: it is stuck, or serves another queue. Restart manage.py db_worker."
            )
        unseen = "no worker has checked in"
        if self.last_check_in is not None:
            unseen += " for " + timesince(self.last_check_in).replace("\xa0", " ")
        return (
            f"{jobs} waited more than {self.stale_seconds} s and {unseen}: "
            "start one with manage.py db_worker."
        )


@dataclass
class QueueCounts:
    """The jobs table at a glance, for /metrics."""

    by_status: dict[str, int]  # queued, running, succeeded, failed (finished jobs until pruned)
    oldest_queued_at: dt.datetime | None  # when the job waiting longest was queued


def job_start(task, *, kind: str, summary: str, actor=None, **kwargs) -> Job:
    """Queue `task(**kwargs)` and remember who asked; the worker sees both at commit."""
    with transaction.atomic():
        result = task.enqueue(**kwargs)
        return Job.objects.create(
            id=result.id,
            kind=kind,
            summary=summary[:200],
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )


def job_follow(request, job: Job) -> None:
    """Tell this user, on a later page, when `job` finishes (JobNotificationMiddleware)."""
    request.session[FOLLOWED] = [*request.session.get(FOLLOWED, []), str(job.pk)]


def jobs_finished_for(request) -> list[JobState]:
    """The followed jobs that have finished since, now forgotten."""
    followed = request.session.get(FOLLOWED)
    if not followed:
        return []
    states = [job_state(job) for job in Job.objects.filter(pk__in=followed)]
    finished = [state for state in states if state.finished]
    still_running = {str(state.job.pk) for state in states if not state.finished}
    request.session[FOLLOWED] = [pk for pk in followed if pk in still_running]
    return finished


@contextmanager
def job_running(context: TaskContext) -> Iterator[None]:
    """Wrap a job's work: say where it runs, and hold the lock that shows it is alive."""
    job_id = uuid.UUID(str(context.task_result.id))
    key = _lock_key(job_id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    Job.objects.filter(pk=job_id).update(runner_host=socket.gethostname(), runner_pid=os.getpid())
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


class JobProgress:
    """Reports how far a job is, at most every PROGRESS_SECONDS, for its page to show.

    A job does its writes in one transaction, which other connections cannot
    see into; the progress is written from a thread of its own, on its own
    connection, and commits at once.  PostgreSQL only: SQLite lets one
    connection write at a time, and the job's transaction holds that lock.

    One JobProgress counts one thing from 0 (the bytes of a file read, then
    the rows written: two of them); `since`, when it was made, is what the
    page measures the pace from to say how long is left.
    """

    def __init__(self, job_id, *, unit: str, total: int | None = None):
        self.job_id = uuid.UUID(str(job_id))
        self.unit = unit
        self.total = total
        self.since = timezone.now().isoformat()
        self.reported_at = 0.0

    def __call__(self, done: int, note: str = "", *, force: bool = False) -> None:
        """Record `done` (of `total`) and a note; `force` for a step worth showing at once (a
        new stage), else at most every PROGRESS_SECONDS."""
        now = time.monotonic()
        if connection.vendor != "postgresql" or (now - self.reported_at < PROGRESS_SECONDS and not force):
            return
        self.reported_at = now
        progress = {"done": done, "total": self.total, "unit": self.unit, "note": note, "since": self.since}
        writer = threading.Thread(target=self._write, args=(progress,), name="job-progress")
        writer.start()
        writer.join()

    def _write(self, progress: dict) -> None:
        try:
            Job.objects.filter(pk=self.job_id).update(progress=progress)
        except Exception:  # progress is a courtesy: never fail the job for it
            logger.warning("Could not record the progress of job %s", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection


def job_state(job: Job) -> JobState:
    """The job's status, times, and result or error; a job whose worker died is marked failed."""
    result = default_task_backend.get_result(str(job.pk))
    if result.status == TaskResultStatus.RUNNING and not _runner_alive(job, result.started_at):
        DBTaskResult.objects.filter(pk=job.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=WORKER_LOST,
            traceback=WORKER_LOST_MESSAGE,
        )
        result = default_task_backend.get_result(str(job.pk))
    state = JobState(
        job=job,
        status=STATUS_NAMES[result.status],
        enqueued_at=result.enqueued_at,
        started_at=result.started_at,
        finished_at=result.finished_at,
    )
    if result.status == TaskResultStatus.SUCCESSFUL:
        state.result = result.return_value
    elif result.status == TaskResultStatus.FAILED and result.errors:
        error = result.errors[-1]
        state.traceback = error.traceback
        state.error = _one_line(error.exception_class_path, error.traceback)
    return state


def job_cancel(job: Job, *, actor) -> bool:
    """Cancel a job that no worker has taken yet; False when one has (it then runs to its end).

    One UPDATE guarded by the queued status: a worker claims a job the same way,
    so exactly one of the two wins.
    """
    cancelled = DBTaskResult.objects.filter(pk=job.pk, status=TaskResultStatus.READY).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=CANCELLED,
        traceback=f"Cancelled by {actor.get_username()} before it started.",
    )
    if cancelled:
        logger.info("Job %s cancelled by %s before it started", job.pk, actor.get_username())
    return bool(cancelled)


def _one_line(exception_class_path: str, traceback: str) -> str:
    if exception_class_path == WORKER_LOST:
        return WORKER_LOST_MESSAGE
    if exception_class_path == CANCELLED:
        return traceback
    last = traceback.strip().splitlines()[-1] if traceback.strip() else exception_class_path
    name, _, message = last.partition(": ")
    return message.strip("[]'\"") if message else name


def _lock_key(job_id: uuid.UUID) -> int:
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


def _runner_alive(job: Job, started_at) -> bool:
    """Whether the worker that claimed the job still runs it (True when this cannot tell)."""
    if job.runner_pid is None:  # claimed, not started yet: give it a while
        waited = (timezone.now() - started_at).total_seconds() if started_at else 0
        return waited < settings.JOB_STALE_SECONDS
    if connection.vendor == "postgresql":
        key = _lock_key(job.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            free = cursor.fetchone()[0]
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return not free
    if job.runner_host != socket.gethostname():
        return True
    try:
        os.kill(job.runner_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def job_queue_health() -> QueueHealth:
    """How many jobs have waited longer than JOB_WORKER_STALE_SECONDS, whether a worker is there,
    and how many of the workers there take no job."""
    stale_seconds = settings.JOB_WORKER_STALE_SECONDS
    cutoff = timezone.now() - dt.timedelta(seconds=stale_seconds)
    last_check_in = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    waiting = DBTaskResult.objects.ready().filter(enqueued_at__lte=cutoff).count()
    worker_seen = last_check_in is not None and last_check_in >= cutoff
    return QueueHealth(
        waiting=waiting,
        last_check_in=last_check_in,
        worker_seen=worker_seen,
        stale_seconds=stale_seconds,
        idle_workers=_idle_workers(cutoff) if waiting and worker_seen else 0,
    )


def _idle_workers(cutoff: dt.datetime) -> int:
    """Workers that checked in since `cutoff`, were already running then, and have neither run
    nor finished a job since: with jobs waiting all that time, their loop takes none."""
    seen = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=cutoff, started_at__lt=cutoff).values_list(
            "worker_id", flat=True
        )
    )
    if not seen:
        return 0
    active = DBTaskResult.objects.filter(Q(status=TaskResultStatus.RUNNING) | Q(finished_at__gte=cutoff))
    busy = {ids[-1] for ids in active.values_list("worker_ids", flat=True) if ids}  # the last claim
    return len(seen - busy)


def job_counts() -> QueueCounts:
    """How many jobs there are in each status, and since when the oldest queued one waits."""
    by_status = dict.fromkeys(STATUS_NAMES.values(), 0)
    for row in DBTaskResult.objects.order_by().values("status").annotate(count=Count("pk")):
        by_status[STATUS_NAMES.get(row["status"], row["status"].lower())] = row["count"]
    oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    return QueueCounts(by_status=by_status, oldest_queued_at=oldest)


def worker_check_in(*, worker_id: str) -> None:
    """Record that this worker process is alive; its heartbeat thread calls this every few seconds."""
    now = timezone.now()
    seen = {"host": socket.gethostname(), "pid": os.getpid(), "seen_at": now}
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults=seen, create_defaults={**seen, "started_at": now}
    )


def worker_check_out(*, worker_id: str) -> None:
    """Forget a worker that stops, and the workers not seen for a day (killed ones never check out)."""
    forgotten = timezone.now() - FORGET_WORKERS_AFTER
    WorkerHeartbeat.objects.filter(Q(worker_id=worker_id) | Q(seen_at__lt=forgotten)).delete()
