"""Background jobs of the analytics app (run by `manage.py db_worker`)."""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django_tasks import TaskContext, task

from bandersnatch.jobs import JobProgress, job_running

from .csvfiles import CsvRejected
from .datasets import dataset_create, dataset_replace
from .models import Dataset


class DatasetRefused(Exception):
    """The file was refused; the message names the first bad cells."""


@task(takes_context=True)
def dataset_load(context: TaskContext, *, upload: str, owner_id: int | None, **options) -> dict:
    """Load a stored upload as a new dataset, all or nothing; the upload is deleted either way."""
    owner = get_user_model().objects.filter(pk=owner_id).first() if owner_id else None

    def load(file, report) -> Dataset:
        return dataset_create(file=file, owner=owner, progress=report, **options)

    return _loaded(_from_upload(context, upload, load))


@task(takes_context=True)
def dataset_reload(context: TaskContext, *, upload: str, dataset_id: int, empty_bad_cells: bool) -> dict:
    """Replace a dataset's rows with a stored upload of the same columns, all or nothing."""
    dataset = Dataset.objects.get(pk=dataset_id)

    def load(file, report) -> Dataset:
        return dataset_replace(dataset, file=file, empty_bad_cells=empty_bad_cells, progress=report)

    return _loaded(_from_upload(context, upload, load))


def _from_upload(context: TaskContext, upload: str, load) -> Dataset:
    """Run `load(file, report)` on the stored upload, reporting progress; the upload is deleted either way."""
    total = default_storage.size(upload)
    progress = JobProgress(context.task_result.id, unit="bytes", total=total)

    def report(rows: int, bytes_read: int) -> None:
        read = f"{filesizeformat(bytes_read)} of {filesizeformat(total)}"
        progress(bytes_read, f"{rows:,} rows loaded, {read} read")

    try:
        with job_running(context), default_storage.open(upload, "rb") as file:
            return load(file, report)
    except CsvRejected as exc:
        raise DatasetRefused(exc.one_line()) from None
    finally:
        default_storage.delete(upload)


def _loaded(dataset: Dataset) -> dict:
    return {
        "message": f"Loaded {dataset.row_count:,} rows and {len(dataset.columns)} columns as {dataset.name}.",
        "url": dataset.get_absolute_url(),
        "link_text": "See the table",
    }
