"""Background jobs of the monsters app (run by `manage.py db_worker`)."""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django_tasks import TaskContext, task

from bandersnatch.jobs import JobProgress, job_running

from .importing import ImportRejected, monsters_import_csv
from .services import monsters_seed


class ImportRefused(Exception):
    """The file was refused and nothing was imported; the message names the first bad cells."""


@task(takes_context=True)
def reseed(context: TaskContext, *, count: int, seed: int | None, actor_id: int | None) -> dict:
    """Replace every monster with `count` generated ones, all or nothing."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    progress = JobProgress(context.task_result.id, unit="rows", total=count)

    def report(done: int) -> None:
        note = f"{done:,} of {count:,} monsters made" + ("; building the indexes" if done == count else "")
        progress(done, note, force=done == count)  # the last chunk always shows: the indexes take a while

    with job_running(context):
        created = monsters_seed(count=count, seed=seed, reset=True, actor=actor, on_progress=report)
    return {"message": f"Replaced every monster with {created:,} new ones.", "url": reverse("monsters:data"),
            "link_text": "See the data"}  # fmt: skip


@task(takes_context=True)
def import_csv(context: TaskContext, *, upload: str, file_name: str, mode: str, actor_id: int | None) -> dict:
    """Import the monsters of a stored upload (monsters_import_csv), all or nothing; the upload is
    deleted either way.  It reports the bytes of the file read, then the monsters written."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    size = default_storage.size(upload)
    reading = JobProgress(context.task_result.id, unit="bytes", total=size)
    writing: list[JobProgress] = []  # started with the writing, whose pace is its own

    def read(rows: int, bytes_read: int) -> None:
        whole = bytes_read >= size
        note = f"{rows:,} rows read, {filesizeformat(bytes_read)} of {filesizeformat(size)}"
        reading(bytes_read, note + ("; checking every cell" if whole else ""), force=whole)

    def written(done: int, total: int) -> None:
        if not writing:
            writing.append(JobProgress(context.task_result.id, unit="rows", total=total))
        note = f"{done:,} of {total:,} monsters written" + ("; building the indexes" if done == total else "")
        writing[0](done, note, force=done in (0, total))  # the start and the end always show

    try:
        with job_running(context), default_storage.open(upload, "rb") as file:
            imported = monsters_import_csv(
                file=file, file_name=file_name, mode=mode, actor=actor, on_read=read, on_written=written
            )
    except ImportRejected as exc:
        raise ImportRefused(exc.one_line()) from None
    finally:
        default_storage.delete(upload)
    if mode == "replace":
        message = f"Replaced every monster with {imported.count:,} imported from {file_name}."
    else:
        message = f"Imported {imported.count:,} monsters from {file_name}."
    return {"message": message, "url": imported.table_url,
            "link_text": f"See the {imported.count:,} imported monsters"}  # fmt: skip
