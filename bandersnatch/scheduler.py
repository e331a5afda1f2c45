"""The scheduler process (`manage.py scheduler`, the Procfile's `scheduler`).

APScheduler's BlockingScheduler runs the daily maintenance at MAINTENANCE_TIME
in the server's TIME_ZONE.  The schedule lives in memory: a run missed while
no scheduler was up is not caught up, the next day's deletes by age anyway.
Each run claims its day in the database first (maintenance_daily), so one
scheduler is enough and more, on other hosts, are harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from .maintenance import maintenance_daily

logger = logging.getLogger(__name__)

TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
MISFIRE_GRACE_SECONDS = 3600  # a run held up (a busy machine, a clock step) still runs within the hour


def maintenance_trigger(at: str, *, time_zone: str) -> CronTrigger:
    """Every day at `at` (HH:MM, 24-hour) in `time_zone`; ImproperlyConfigured naming MAINTENANCE_TIME if
    `at` is no such time."""
    match = TIME_OF_DAY.fullmatch(at.strip())
    if match is None:
        raise ImproperlyConfigured(
            f"MAINTENANCE_TIME must be a time of day as HH:MM (24-hour), e.g. 03:30, not {at!r}."
        )
    return CronTrigger(hour=int(match[1]), minute=int(match[2]), timezone=time_zone)


def maintenance_job() -> None:
    """The scheduled job: maintenance_daily() on a connection of its own.

    It runs a day apart on one of the scheduler's threads: a connection kept
    all day would be broken by then (a database restart, an idle timeout), so
    it opens a fresh one and closes it when done.
    """
    connections.close_all()
    try:
        maintenance_daily()
    finally:
        connections.close_all()


def scheduler_build() -> tuple[BlockingScheduler, dt.datetime]:
    """The scheduler with the daily maintenance added, and when that first runs."""
    trigger = maintenance_trigger(settings.MAINTENANCE_TIME, time_zone=settings.TIME_ZONE)
    scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)
    scheduler.add_job(
        maintenance_job,
        trigger,
        id="maintenance",
        name="daily maintenance",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )
    first = trigger.get_next_fire_time(None, dt.datetime.now(trigger.timezone))
    return scheduler, first
