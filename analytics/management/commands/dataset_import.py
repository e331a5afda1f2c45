"""Load a CSV file (or a gzip of one) as a new dataset; the last line printed is its slug.

All or nothing: a file that cannot be loaded leaves no dataset and no table
behind, and the command exits non-zero with one line saying why (and the
first bad cells).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.csvfiles import CsvRejected
from analytics.datasets import dataset_create


class Command(BaseCommand):
    help = "Load PATH (a CSV file, maybe gzipped) as a new dataset and print its slug."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument("--name", required=True, help="The dataset's name.")
        parser.add_argument("--public", action="store_true", help="Let everyone see it (read-only).")
        parser.add_argument("--owner", help="Username of its owner (default: no owner, staff only).")
        parser.add_argument("--description", default="", help="A sentence on what the rows are.")
        parser.add_argument(
            "--empty-bad-cells", action="store_true",
            help="Make cells that do not fit their column empty instead of refusing the file.",
        )  # fmt: skip

    def handle(self, *args, path, name, public, owner, description, empty_bad_cells, verbosity, **options):
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user named {owner!r}.")
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"No file at {path}.")
        size = file_path.stat().st_size
        show_bar = verbosity >= 1 and self.stdout.isatty()
        with (
            open(file_path, "rb") as file,
            tqdm(total=size, unit="B", unit_scale=True, disable=not show_bar, desc="Loading") as bar,
        ):

            def progress(rows: int, bytes_read: int) -> None:
                bar.set_postfix_str(f"{rows:,} rows")
                bar.update(bytes_read - bar.n)

            try:
                dataset = dataset_create(
                    file=file, name=name, owner=user, is_public=public, description=description,
                    empty_bad_cells=empty_bad_cells, progress=progress,
                )  # fmt: skip
            except CsvRejected as exc:
                raise CommandError(exc.one_line()) from None
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if verbosity >= 1:
            self.stdout.write(f"Loaded {dataset.row_count:,} rows and {len(dataset.columns)} columns.")
        self.stdout.write(dataset.slug)
