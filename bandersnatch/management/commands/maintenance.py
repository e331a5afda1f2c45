"""`manage.py maintenance`: the daily maintenance, by hand.

The scheduler process runs the same chores every day (bandersnatch.maintenance);
this runs them now, say after lowering a retention setting, and prints what
each deleted.  It claims no day: it runs even when the scheduler ran today.
"""

from django.core.management.base import BaseCommand, CommandError

from bandersnatch.maintenance import CHORES, maintenance_run


class Command(BaseCommand):
    help = (
        "Delete old prediction log entries, finished jobs and expired sessions now, in batches "
        "(the scheduler does it daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", help=f"Run only these chores, comma-separated: {', '.join(CHORES)}.")

    def handle(self, *args, only, verbosity, **options):
        chosen = None
        if only is not None:
            chosen = [name.strip() for name in only.split(",") if name.strip()]
            unknown = [name for name in chosen if name not in CHORES]
            if unknown or not chosen:
                raise CommandError(f"--only takes chores among {', '.join(CHORES)}, not {only!r}.")
        for result in maintenance_run(only=chosen):
            if verbosity >= 1:
                self.stdout.write(self.style.SUCCESS(str(result)))
