"""Background jobs of the ml app (run by `manage.py db_worker`)."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django_tasks import TaskContext, task

from analytics.models import Dataset
from bandersnatch.jobs import JobProgress, job_running

from .services import model_version_train
from .training import STAGES


@task(takes_context=True)
def train(
    context: TaskContext, *, actor_id: int | None, dataset_id: int | None = None, options: dict
) -> dict:
    """Train a model version of a dataset (default: the monsters) with model_version_train's `options`
    (by name: job_start takes `task` itself); stored (and activated) at the end."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    dataset = Dataset.objects.get(pk=dataset_id) if dataset_id else None
    stages = JobProgress(context.task_result.id, unit="stages", total=len(STAGES))

    def report(stage: int, note: str) -> None:
        stages(stage, note, force=True)  # a new stage shows at once

    with job_running(context):
        version = model_version_train(dataset=dataset, created_by=actor, progress=report, **options)
    state = "It is now the active version" if version.is_active else "It was not activated"
    return {
        "message": f"Trained model v{version.version}: test {version.headline_text}. {state}.",
        "url": reverse("ml:version", args=[version.version]),
        "link_text": f"See model v{version.version}",
    }
