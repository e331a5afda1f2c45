"""A job for the scale-out test (test_scale_out.py): the workers import it by its path."""

import time

from django_tasks import TaskContext, task

from monsters.services import monsters_seed


@task(takes_context=True)
def add_one_monster(context: TaskContext, *, seed: int) -> str:
    """Add one monster, slowly enough that two workers share a queue of these; a job run twice
    adds two."""
    time.sleep(0.3)
    monsters_seed(count=1, seed=seed)
    return str(context.task_result.id)
