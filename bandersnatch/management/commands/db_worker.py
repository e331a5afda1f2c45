"""`manage.py db_worker`: django_tasks_db's worker, made to outlast the database going away.

The library's worker exits on any database error but a locked SQLite file,
so a PostgreSQL restart stopped every job until someone noticed.  This one
closes the broken connections, waits (0.5 s, doubling up to 30 s) and goes
on; it saves a job's result once the database is back, so a job that was
running is recorded (as failed, when the outage broke it) instead of lost;
and it checks in every few seconds so that /api/health and /ops/ can tell
when jobs wait and no worker is there.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from bandersnatch.db import DATABASE_UNAVAILABLE, Backoff, error_line
from bandersnatch.jobs import HEARTBEAT_SECONDS, worker_check_in, worker_check_out
from bandersnatch.request_ids import request_id_set

logger = logging.getLogger(__name__)


class Worker(db_worker.Worker):
    def run(self) -> None:
        """The library's polling loop, entered again each time the database is back."""
        heartbeat = None if self.batch else Heartbeat(self.worker_id)  # a batch run is no standing worker
        if heartbeat is not None:
            heartbeat.start()
        try:
            while self.running:
                try:
                    super().run()
                    return
                except DATABASE_UNAVAILABLE as exc:
                    self.startup_delay = False
                    self._wait_for_database(exc)
        finally:
            if heartbeat is not None:
                heartbeat.stop()
                try:
                    worker_check_out(worker_id=self.worker_id)
                except DatabaseError as exc:
                    logger.warning("Could not check the worker out: %s", error_line(exc))

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # The library saves a job's result with three tries in 0.3 s, on the
        # same broken connection; these keep trying on fresh ones until saved.
        for save in ("set_successful", "set_failed"):
            setattr(db_task_result, save, self._until_saved(getattr(db_task_result, save), db_task_result))
        with request_id_set(db_task_result.pk.hex):  # the job's log lines carry its id
            super().run_task(db_task_result)

    def _wait_for_database(self, error: BaseException) -> None:
        backoff = Backoff()
        while self.running:
            self._pause(backoff, f"The database is unavailable ({error_line(error)})")
            try:
                connection.ensure_connection()
            except DATABASE_UNAVAILABLE as exc:
                error = exc
            else:
                logger.warning("The database answers again; the worker goes on.")
                return

    def _until_saved(self, save: Callable, db_task_result: DBTaskResult) -> Callable:
        @functools.wraps(save)
        def patient_save(*args, **kwargs):
            backoff = Backoff()
            while True:
                try:
                    return save(*args, **kwargs)
                except DATABASE_UNAVAILABLE as exc:
                    reason = f"Could not save the result of job {db_task_result.pk} ({error_line(exc)})"
                    self._pause(backoff, reason)

        return patient_save

    @staticmethod
    def _pause(backoff: Backoff, reason: str) -> None:
        """Drop the broken connections (the next query opens new ones) and wait a while."""
        connections.close_all()
        delay = backoff.failed()
        logger.warning("%s; trying again in %.1f s.", reason, delay)
        time.sleep(delay)


class Heartbeat(threading.Thread):
    """Checks the worker in every HEARTBEAT_SECONDS, also while a long job runs."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        failing = False
        while True:
            connection.close_if_unusable_or_obsolete()  # a cut connection is replaced, not failed on
            try:
                worker_check_in(worker_id=self.worker_id)
                failing = False
            except DatabaseError as exc:  # the worker's own loop says when the database is away
                if not failing:
                    logger.warning("Could not check the worker in: %s", error_line(exc))
                failing = True
                connection.close()
            if self.stopped.wait(HEARTBEAT_SECONDS):
                break
        connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=HEARTBEAT_SECONDS)


class Command(db_worker.Command):
    help = "Run the background worker; it outlasts database restarts and checks in every few seconds."

    def handle(self, *, verbosity, queue_name, exclude_queues, batch, reload, **options) -> None:
        """The library's handle(), building this module's Worker."""
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded_queue_names,
        )
        if not reload:
            worker.configure_signals()
            worker.run()
            return
        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":  # only the reloaded child handles signals
            worker.configure_signals()
        run_with_reloader(worker.run)
