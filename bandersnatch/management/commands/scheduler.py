"""`manage.py scheduler`: the process that runs the daily maintenance (the Procfile's `scheduler`).

It sleeps until MAINTENANCE_TIME (in TIME_ZONE) and runs bandersnatch.maintenance's
chores, once a day across every scheduler running (each run claims its day in
the database), until SIGTERM or Ctrl-C.  A bad MAINTENANCE_TIME stops it at
once with a one-line error.
"""

import logging
import signal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from bandersnatch.scheduler import scheduler_build

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the daily maintenance at MAINTENANCE_TIME, until stopped."

    def handle(self, *args, **options):
        try:
            scheduler, first = scheduler_build()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

        def stop(signum, frame):
            logger.info("Scheduler stopping (%s).", signal.Signals(signum).name)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info(
            "Scheduler started: maintenance daily at %s %s, next at %s.",
            settings.MAINTENANCE_TIME,
            settings.TIME_ZONE,
            first.isoformat(timespec="minutes"),
        )
        scheduler.start()
