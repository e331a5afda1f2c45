"""Fill the monster table with generated monsters.

`make run` calls it with --if-empty for the first 1,000; the benchmarks call it
with a million.  It is all or nothing: an interrupted run leaves the table as
it was.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from monsters.loading import LoadBusy
from monsters.models import Monster
from monsters.services import monsters_seed

MAX_COUNT = 100_000_000


def whole_number(option: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high], else a one-line CommandError."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError(f"{option} must be a whole number, not {value!r}.") from None
    if not low <= number <= high:
        raise CommandError(f"{option} must be between {low:,} and {high:,}, not {number:,}.")
    return number


class Command(BaseCommand):
    help = "Generate COUNT random monsters into the database (1,000 by default)."
    # No URL and model checks first: they import every app's views (scikit-learn,
    # Plotly), a second and a half of start-up the seeding itself never uses.
    requires_system_checks = []

    def add_arguments(self, parser):
        # Checked in handle(), so a bad value gives one CommandError line.
        parser.add_argument("--count", default="1000", help="How many (default 1,000).")
        parser.add_argument("--reset", action="store_true", help="Delete every monster first.")
        parser.add_argument("--seed", help="Random seed (0 or more), for repeatable data.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when there are monsters already."
        )
        parser.add_argument(
            "--wait", help="Seconds to wait for another load of the monsters to finish (default: no limit)."
        )

    def handle(self, *args, count, reset, seed, if_empty, wait, verbosity, **options):
        count = whole_number("--count", count, 1, MAX_COUNT)
        if wait is not None:
            wait = whole_number("--wait", wait, 0, 24 * 3600)
        if seed is not None:
            seed = whole_number("--seed", seed, 0, 2**63 - 1)
        if if_empty and Monster.objects.exists():
            if verbosity >= 1:
                self.stdout.write("Monsters already exist; nothing seeded.")
            return
        show_bar = verbosity >= 1 and self.stdout.isatty()
        with tqdm(total=count, unit=" monsters", unit_scale=True, disable=not show_bar) as bar:
            try:
                monsters_seed(
                    count=count,
                    seed=seed,
                    reset=reset,
                    wait=wait,
                    on_progress=lambda done: bar.update(done - bar.n),
                )
            except LoadBusy as exc:
                raise CommandError(str(exc)) from None
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"Seeded {count:,} monsters."))
