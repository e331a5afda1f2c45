"""The admin's lists take any filter in the address without a 500."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from bandersnatch.admin import ModelAdmin
from ml.models import PredictionLog
from monsters.models import Monster
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db
OUR_APPS = {"bandersnatch", "monsters", "ml"}


@pytest.fixture
def staff_client(django_user_model):
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.create_superuser("keeper", "keeper@example.com", "pw"))
    return client


def test_every_admin_of_ours_has_the_shared_base():
    ours = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    ]
    assert len(ours) >= 6
    assert [
        type(model_admin).__name__ for model_admin in ours if not isinstance(model_admin, ModelAdmin)
    ] == []


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [Monster, PredictionLog], ids=["monsters", "prediction log"])
@pytest.mark.parametrize("query", ["created_at__year=99999", "created_at__year=next", "created_at__day=x"])
def test_a_year_out_of_range_or_not_a_number_is_a_bad_filter(staff_client, model, query):
    response = staff_client.get(f"{changelist(model)}?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"{changelist(model)}?e=1"


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=9999",  # the date hierarchy also works out the year after
        "created_at__year=9999&created_at__month=12",
        "created_at__year=9999&created_at__month=12&created_at__day=31",
        "created_at__year=2026&created_at__month=13",
        "created_at__year=2026&created_at__month=2&created_at__day=40",
    ],
)
def test_a_date_the_date_hierarchy_cannot_bound_is_a_bad_filter(staff_client, query):
    response = staff_client.get(f"{changelist(PredictionLog)}?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"{changelist(PredictionLog)}?e=1"


@pytest.mark.parametrize(
    "query", ["created_at__month=13", "created_at__day=40", "created_at__year=9999&created_at__month=12"]
)
def test_a_date_part_no_monster_has_is_an_empty_list(staff_client, query):
    MonsterFactory()
    response = staff_client.get(f"{changelist(Monster)}?{query}")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_good_filters_still_list_the_rows(staff_client):
    MonsterFactory(name="Imp", type="Fey")
    MonsterFactory(name="Wyrm", type="Dragon")
    response = staff_client.get(reverse("admin:monsters_monster_changelist"), {"type__exact": "Fey"})
    assert response.status_code == 200
    assert [monster.name for monster in response.context["cl"].result_list] == ["Imp"]


def test_the_admin_and_the_api_docs_carry_the_site_name_and_a_way_back(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert "<title>Site administration | Bandersnatch admin</title>" in page
    assert 'href="/">View site</a>' in page and f'href="{reverse("ops")}">Operations</a>' in page
    assert "img/favicon.svg" in page
    docs = staff_client.get("/api/docs").content.decode()
    assert "Bandersnatch API" in docs
    schema = staff_client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Bandersnatch API"
    assert schema["info"]["description"].endswith("[Back to Bandersnatch](/)")  # Swagger shows it as a link
