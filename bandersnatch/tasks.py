"""Background jobs of the shared kernel (run by `manage.py db_worker`)."""

from django_tasks import task

from .snapshots import snapshots_refresh


@task()
def refresh_snapshots() -> dict:
    """Bring every precomputed result up to date with the data (queued after each change)."""
    failed = snapshots_refresh()
    return {
        "message": "Precomputed results are up to date." if not failed else f"Failed: {', '.join(failed)}"
    }
