import pytest


@pytest.fixture
def people(db):
    """A dataset's owner, another user and staff: who sees what."""
    from django.contrib.auth.models import User

    return {
        "owner": User.objects.create_user("owner"),
        "other": User.objects.create_user("other"),
        "staff": User.objects.create_user("staff", is_staff=True),
    }
