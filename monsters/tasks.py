"""Background jobs of the monsters app (run by `manage.py db_worker`)."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django_tasks import TaskContext, task

from bandersnatch.jobs import JobProgress, job_running

from .services import monsters_seed


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
