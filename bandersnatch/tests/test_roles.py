"""Every protected URL, as anonymous, as a signed-in user and as staff.

Anonymous: sent to sign in.  Signed in without the right role: 403.  With it: allowed.
Public pages stay public.  Nothing changes for the ones refused.
"""

import pytest
from django.urls import reverse

from bandersnatch.jobs import job_start
from bandersnatch.models import Job
from ml.models import ModelVersion
from monsters import tasks as monster_tasks
from monsters.models import Monster

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/", "/data/", "/view/", "/analytics/", "/model/", "/model/versions/", "/api/health",
    "/accounts/login/", "/accounts/signup/",
]  # fmt: skip
SIGNED_IN = [
    "/data/export.csv", "/model/download", "/model/versions/1/download", "/model/versions/1/card.json",
    "/accounts/password_change/",
]  # fmt: skip
STAFF_GET = [
    "/ops/", "/ops/reset/", "/ops/import/", "/ops/train/", "/model/monitoring/", "/admin/",
    "/admin/monsters/monster/", "/admin/bandersnatch/auditentry/",
]  # fmt: skip
STAFF_POST = ["/ops/reset/", "/ops/import/", "/ops/train/", "/model/versions/1/activate/", "/model/rollback/"]


@pytest.fixture
def site(trained_version, admin_user):
    """Monsters, one trained version (v1) and a queued job to look at."""
    assert trained_version.version == 1
    job = job_start(monster_tasks.reseed, kind="reseed", summary="Reseed", count=10, seed=1, actor_id=None)
    return {"job": job}


def job_urls(job: Job) -> list[str]:
    return [reverse("job", args=[job.pk]), reverse("job-status", args=[job.pk])]


def sign_in_url(url: str) -> str:
    return "/admin/login/" if url.startswith("/admin/") else reverse("login")


@pytest.fixture
def member(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("member", "member@example.com", "x"))
    return client


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_public_pages_are_open_to_everyone(client, site):
    for url in PUBLIC:
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_sign_in(client, site):
    for url in [*SIGNED_IN, *STAFF_GET, *job_urls(site["job"])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(sign_in_url(url)), url
    for url in STAFF_POST:
        response = client.post(url, {"count": 5, "confirm": "on"})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_signed_in_users_download_but_get_403_on_staff_pages(member, site):
    for url in SIGNED_IN:
        assert member.get(url).status_code == 200, url
    for url in STAFF_GET:
        assert member.get(url).status_code == 403, url
    for url in job_urls(site["job"]):  # somebody else's job: not admitted to exist
        assert member.get(url).status_code == 404, url
    for url in STAFF_POST:
        assert member.post(url, {"count": 5, "confirm": "on"}).status_code == 403, url


def test_staff_open_everything(staff, site):
    for url in [*SIGNED_IN, *STAFF_GET, *job_urls(site["job"])]:
        assert staff.get(url).status_code == 200, url


def test_refused_requests_change_nothing(client, member, site):
    before = (Monster.objects.count(), list(ModelVersion.objects.values_list("version", "is_active")))
    for url in STAFF_POST:
        member.post(url, {"count": 5, "confirm": "on", "mode": "replace"})
    client.logout()
    for url in STAFF_POST:
        client.post(url, {"count": 5, "confirm": "on", "mode": "replace"})
    after = (Monster.objects.count(), list(ModelVersion.objects.values_list("version", "is_active")))
    assert after == before
    assert Job.objects.count() == 1  # only the fixture's
