"""The staff page that resets and reseeds the monsters: confirmation, inline or as a job, audit."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from bandersnatch.models import AuditEntry, Job
from monsters.models import Monster
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db
RESET = reverse("monsters:reset")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


class TestAccess:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        for response in (client.get(RESET), client.post(RESET, {"count": 10, "confirm": "on"})):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        assert not Monster.objects.exists()

    def test_signed_in_non_staff_get_403(self, client, django_user_model):
        client.force_login(django_user_model.objects.create_user("visitor", password="x"))
        assert client.get(RESET).status_code == 403
        assert client.post(RESET, {"count": 10, "confirm": "on"}).status_code == 403
        assert not Monster.objects.exists()


class TestReseed:
    def test_the_first_post_asks_for_confirmation_and_changes_nothing(self, staff):
        monsters_seed(count=30, seed=1)
        response = staff.post(RESET, {"count": 12, "seed": 5})
        assert response.status_code == 200
        content = response.content.decode()
        assert "Are you sure?" in content and "This deletes" in content
        assert Monster.objects.count() == 30

    def test_confirmed_small_reseed_runs_at_once(self, staff, admin_user):
        monsters_seed(count=30, seed=1)
        response = staff.post(RESET, {"count": 12, "seed": 5, "confirm": "on"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("monsters:data")
        assert "Replaced every monster with 12 new ones." in response.content.decode()
        assert Monster.objects.count() == 12
        entry = AuditEntry.objects.filter(action="reset").get()
        assert entry.actor == admin_user and entry.details == {"count": 12, "seed": 5}

    def test_the_same_seed_gives_the_same_monsters(self, staff):
        def snapshot():
            return list(Monster.objects.order_by("pk").values_list("name", "level", "health"))

        staff.post(RESET, {"count": 20, "seed": 9, "confirm": "on"})
        first = snapshot()
        staff.post(RESET, {"count": 20, "seed": 9, "confirm": "on"})
        assert snapshot() == first

    def test_a_large_reseed_is_queued_as_a_job(self, staff, admin_user, monkeypatch):
        monkeypatch.setattr("monsters.views.RESEED_INLINE_MAX", 10)
        monsters_seed(count=30, seed=1)
        response = staff.post(RESET, {"count": 25, "confirm": "on"})
        job = Job.objects.get()
        assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
        assert job.kind == "reseed" and job.created_by == admin_user
        assert DBTaskResult.objects.get(pk=job.pk).args_kwargs["kwargs"]["count"] == 25
        assert Monster.objects.count() == 30  # nothing happens until a worker runs it

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"count": "abc"}, "count", "Enter a whole number."),
            ({"count": "0"}, "count", "greater than or equal to 1"),
            ({"count": "99999999"}, "count", "less than or equal to 5000000"),
            ({"count": "10", "seed": "-1"}, "seed", "greater than or equal to 0"),
            ({}, "count", "This field is required."),
        ],
    )
    def test_bad_input_shows_field_errors(self, staff, data, field, message):
        monsters_seed(count=30, seed=1)
        response = staff.post(RESET, {**data, "confirm": "on"})
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors[field])
        assert Monster.objects.count() == 30

    def test_get_is_safe_and_only_shows_the_form(self, staff):
        monsters_seed(count=30, seed=1)
        response = staff.get(RESET, {"count": 5, "confirm": "on"})
        assert response.status_code == 200 and Monster.objects.count() == 30

    def test_csrf_is_enforced(self, admin_user):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        assert client.post(RESET, {"count": 5, "confirm": "on"}).status_code == 403
