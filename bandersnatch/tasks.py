"""Background jobs of the shared kernel (run by `manage.py db_worker`)."""

from django.contrib.auth.forms import PasswordResetForm
from django_tasks import task

from .snapshots import snapshots_refresh


@task()
def refresh_snapshots() -> dict:
    """Bring every precomputed result up to date with the data (queued after each change)."""
    failed = snapshots_refresh()
    return {
        "message": "Precomputed results are up to date." if not failed else f"Failed: {', '.join(failed)}"
    }


@task()
def password_reset_mail_send(*, email: str, domain: str, use_https: bool) -> None:
    """Mail a reset link to each active account of this address that has a password (none: nothing).

    Queued by the reset page (accounts.PasswordResetRequestForm), which answers
    the same either way; the link is made here and only mailed.
    """
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https)
