"""Background jobs: start one, run it, read its state.

The queue is django-tasks with its database backend (the `db_worker` command
runs the jobs).  A worker killed mid-job leaves its row "running" for ever;
job_state() notices that the worker is gone and records the job as failed.
On PostgreSQL a running job holds an advisory lock, which the server drops
with the worker's connection, so this works across machines; elsewhere the
worker's process id is checked on its own machine.  Every job does its
writes in one transaction, so a killed job has changed nothing.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskContext, TaskResultStatus, default_task_backend
from django_tasks_db.models import DBTaskResult

from .models import Job

FOLLOWED = "bandersnatch.followed_jobs"  # session key: jobs to tell the user about
WORKER_LOST = "bandersnatch.jobs.WorkerLost"
WORKER_LOST_MESSAGE = (
    "The worker running this job stopped (it was killed or crashed) before the job finished. "
    "Its changes were rolled back: the data and the models are as they were."
)
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


def _one_line(exception_class_path: str, traceback: str) -> str:
    if exception_class_path == WORKER_LOST:
        return WORKER_LOST_MESSAGE
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
