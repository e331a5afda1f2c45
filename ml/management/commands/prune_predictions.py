"""Delete prediction log entries older than the retention period.

The daily maintenance (`manage.py scheduler`, or `manage.py maintenance` by
hand) does this with the others; this command is for another period now
(--days).  PREDICTION_LOG_RETENTION_DAYS sets the default period.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.services import predictions_prune


class Command(BaseCommand):
    help = "Delete prediction log entries older than --days (default PREDICTION_LOG_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", help=f"Keep this many days (default {settings.PREDICTION_LOG_RETENTION_DAYS})."
        )

    def handle(self, *args, days, verbosity, **options):
        try:
            days = int(days) if days is not None else settings.PREDICTION_LOG_RETENTION_DAYS
        except ValueError:
            raise CommandError(f"--days must be a whole number, not {days!r}.") from None
        if days < 1:
            raise CommandError(f"--days must be at least 1, not {days}.")
        deleted = predictions_prune(older_than_days=days)
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Deleted {deleted:,} prediction log entries older than {days} days.")
            )
