"""One set of bounds for every way in (columns.py), and pages that survive odd but legal rows."""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from monsters.columns import COLUMN, MAX_RESOURCE, MONSTER_COLUMNS
from monsters.importing import ImportRejected, monsters_import_csv
from monsters.models import Monster
from monsters.services import monsters_seed
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db
HEADER = "name,type,level,rarity,damage,health,energy,sanity,created_at"


def import_rows(*rows: str) -> ImportRejected:
    upload = SimpleUploadedFile("bad.csv", ("\n".join([HEADER, *rows]) + "\n").encode())
    with pytest.raises(ImportRejected) as caught:
        monsters_import_csv(file=upload, mode="append")
    assert not Monster.objects.exists()
    return caught.value


class TestTheImportKeepsTheBounds:
    def test_times_out_of_range_are_refused(self):
        rejected = import_rows(
            "Imp,Demonic,3,Rank 1,3d4,1,1,1,9999-12-31T23:59:59-14:00",
            "Imp,Demonic,3,Rank 1,3d4,1,1,1,1969-12-31T23:59:59Z",
            "Imp,Demonic,3,Rank 1,3d4,1,1,1,2200-01-01T00:00:00Z",
        )
        message = "Must be a time from 1970-01-01 to 2199-12-31."
        assert rejected.errors == [
            (2, "created_at", message),
            (3, "created_at", message),
            (4, "created_at", message),
        ]

    def test_resources_above_the_largest_are_refused(self):
        rejected = import_rows(
            "Imp,Demonic,3,Rank 1,3d4,1.7976931348623157e308,1,1,", "Imp,Demonic,3,Rank 1,3d4,1,1000000.01,1,"
        )
        message = "Must be a number from 0 to 1,000,000."
        assert rejected.errors == [(2, "health", message), (3, "energy", message)]

    def test_names_with_control_characters_or_only_spaces_are_refused(self):
        rejected = import_rows(
            '"Imp\rKing",Demonic,3,Rank 1,3d4,1,1,1,', '"Imp\tKing",Demonic,3,Rank 1,3d4,1,1,1,',
            '"   ",Demonic,3,Rank 1,3d4,1,1,1,',
        )  # fmt: skip
        control = "Holds a control character (a tab or a line break, say)."
        assert rejected.errors == [(2, "name", control), (3, "name", control), (4, "name", "Required.")]

    def test_the_bounds_themselves_go_in(self):
        upload = SimpleUploadedFile(
            "edge.csv",
            (
                f"{HEADER}\n"
                f"{'Ü' * 64},Demonic,20,Rank 5,20d12+5,{MAX_RESOURCE},0,0.0,1970-01-01T00:00:00Z\n"
                "Imp,Demonic,1,Rank 0,1d2,0,0,0,2199-12-31T23:59:59.999999Z\n"
            ).encode(),
        )
        assert monsters_import_csv(file=upload, mode="append").count == 2
        assert Monster.objects.order_by("pk").first().health == MAX_RESOURCE


class TestFormsApiAndAdminKeepTheBounds:
    def test_the_admin_form_names_the_field_and_its_bounds(self, admin_client):
        monster = MonsterFactory(level=3, rank=1)
        url = reverse("admin:monsters_monster_change", args=[monster.pk])
        data = {
            "name": "Imp\rKing", "type": monster.type, "level": 3, "rarity": "Rank 1", "damage": "3d4",
            "health": 2e6, "energy": 1, "sanity": 1, "created_at_0": "9999-12-31", "created_at_1": "23:59:59",
        }  # fmt: skip
        response = admin_client.post(url, data)
        assert response.status_code == 200  # the form again, with its errors
        errors = response.context["adminform"].form.errors
        assert errors["name"] == [f"Must be {COLUMN['name'].bounds_text}."]
        assert errors["health"] == ["Must be a number from 0 to 1,000,000."]
        assert errors["created_at"] == ["Must be a time from 1970-01-01 to 2199-12-31."]
        monster.refresh_from_db()
        assert monster.name.startswith("Test Monster")

    def test_the_filter_form_takes_no_resource_above_the_largest(self, client):
        response = client.get(reverse("monsters:data"), {"health_min": "2e6"})
        assert response.status_code == 400
        assert "1000000" in response.content.decode().replace(",", "")

    def test_the_prediction_api_takes_no_resource_above_the_largest(self, client, trained_version):
        body = {"level": 3, "health": MAX_RESOURCE * 2, "energy": 1.0, "sanity": 1.0}
        response = client.post(reverse("api:predict"), body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["message"] == "'health' must be between 0 and 1,000,000, not 2000000.0."

    def test_every_generated_monster_is_inside_the_bounds(self):
        monsters_seed(count=2_000, seed=3)
        for column in MONSTER_COLUMNS:
            values = Monster.objects.values_list(column.name, flat=True)
            assert [v for v in values if column.problem(v) is not None] == []


ODD_BUT_LEGAL = [
    {"name": "<a href='https://example.com'>x</a>", "level": 1, "rank": 0, "health": 0.0},
    {"name": "=cmd|' /C calc'!A0", "level": 20, "rank": 5, "health": MAX_RESOURCE, "energy": MAX_RESOURCE},
    {"name": "🐉" * 64, "level": 20, "rank": 5, "sanity": MAX_RESOURCE},
    {"name": " spaced ", "level": 7, "rank": 2, "created_at": dt.datetime(1970, 1, 1, tzinfo=dt.UTC)},
    {
        "name": "Late",
        "level": 7,
        "rank": 2,
        "created_at": dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    },
]


@pytest.fixture
def odd_monsters(seeded_monsters):
    return [MonsterFactory(**values) for values in ODD_BUT_LEGAL]


class TestPagesSurviveOddButLegalRows:
    @pytest.mark.parametrize(
        "url",
        [
            "/", "/data/?sort=-id", "/data/?sort=health", "/data/?sort=-created_at", "/data/?page=last",
            "/view/?kind=histogram&x=health", "/view/?kind=box&x=type&y=energy",
            "/view/?kind=density&x=health&y=sanity",
            "/view/?kind=scatter&x=health&y=sanity", "/view/?kind=histogram&x=name", "/analytics/",
            "/api/monsters?sort=-health",
        ],
    )  # fmt: skip
    def test_every_page_answers(self, client, odd_monsters, url):
        assert client.get(url).status_code == 200

    def test_each_odd_monster_has_its_page_its_api_answer_and_the_admin_lists_them(
        self, admin_client, odd_monsters
    ):
        for monster in odd_monsters:
            assert admin_client.get(reverse("monsters:detail", args=[monster.pk])).status_code == 200
            assert admin_client.get(f"/api/monsters/{monster.pk}").status_code == 200
            assert admin_client.get(f"/api/monsters/{monster.pk}/similar").status_code == 200
        assert admin_client.get(reverse("admin:monsters_monster_changelist")).status_code == 200

    def test_the_export_holds_every_row(self, client, odd_monsters):
        client.force_login(get_user_model().objects.create_user("reader"))
        response = client.get(reverse("monsters:export"))
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert len(lines) == 1 + Monster.objects.count()

    def test_training_takes_them(self, odd_monsters):
        out = io.StringIO()
        call_command("train", "--seed", "1", stdout=out)
        assert "Stored model v" in out.getvalue()
