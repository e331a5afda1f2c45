"""The JSON API of the monsters: /data's table with its filters, one monster, the similar ones."""

import pytest

from monsters.models import Monster
from monsters.services import monsters_seed
from monsters.similarity import monsters_similar

from .factories import MonsterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def monsters():
    monsters_seed(count=120, seed=5)


class TestMonsterList:
    def test_first_page_with_its_links(self, client, monsters):
        page = client.get("/api/monsters", {"per_page": 10}).json()
        assert page["count"] == 120 and page["count_is_estimate"] is False
        assert page["page"] == 1
        first_ten = list(Monster.objects.order_by("pk").values_list("pk", flat=True)[:10])
        assert [monster["id"] for monster in page["results"]] == first_ten
        assert page["previous"] is None
        assert page["next"].startswith("http://testserver/api/monsters?")

    def test_following_next_walks_the_whole_table_once(self, client, monsters):
        seen, url = [], "/api/monsters?per_page=50&sort=-health"
        while url:
            page = client.get(url).json()
            seen += [monster["id"] for monster in page["results"]]
            url = page["next"]
        expected = list(Monster.objects.order_by("-health", "-pk").values_list("pk", flat=True))
        assert seen == expected

    def test_filters_as_on_the_data_page(self, client, monsters):
        page = client.get("/api/monsters", {"type": "Fey", "level_min": 3, "per_page": 200}).json()
        expected = Monster.objects.filter(type="Fey", level__gte=3).count()
        assert page["count"] == expected == len(page["results"])
        assert all(m["type"] == "Fey" and m["level"] >= 3 for m in page["results"])

    def test_a_range_of_ids_as_on_the_data_page_and_in_the_docs(self, client, monsters):
        ids = list(Monster.objects.order_by("pk").values_list("pk", flat=True))
        page = client.get("/api/monsters", {"id_min": ids[100], "id_max": ids[104]}).json()
        assert [monster["id"] for monster in page["results"]] == ids[100:105]
        parameters = client.get("/api/openapi.json").json()["paths"]["/api/monsters"]["get"]["parameters"]
        assert {"id_min", "id_max"} <= {parameter["name"] for parameter in parameters}

    def test_a_page_past_the_end_is_the_last_page_with_its_own_number(self, client, monsters):
        """As /data sends a page past the end to the last one; the body says which page it is."""
        page = client.get("/api/monsters", {"per_page": 50, "page": 999}).json()
        assert page["page"] == 3 and page["next"] is None
        last = list(Monster.objects.order_by("pk").values_list("pk", flat=True)[100:])
        assert [monster["id"] for monster in page["results"]] == last

    def test_a_monster_has_every_field(self, client, monsters):
        monster = client.get("/api/monsters", {"per_page": 10}).json()["results"][0]
        assert set(monster) == {
            "id", "name", "type", "level", "rarity", "damage", "health", "energy", "sanity", "created_at",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"sort": "nope"}, "sort:"),
            ({"level_min": -5}, "level_min:"),
            ({"per_page": 5000}, "per_page:"),
            ({"rarity": "Rank 9"}, "rarity:"),
            ({"after": "not-a-cursor"}, ""),
        ],
    )
    def test_bad_parameters_are_400_naming_them(self, client, monsters, params, message):
        response = client.get("/api/monsters", params)
        assert response.status_code == 400
        assert response.json()["message"].startswith(message)

    def test_wrong_types_are_400(self, client, monsters):
        response = client.get("/api/monsters", {"level_min": "abc"})
        assert response.status_code == 400
        assert "level_min" in response.json()["message"]


class TestMonsterDetail:
    def test_one_monster(self, client, monsters):
        monster = Monster.objects.order_by("pk")[6]
        body = client.get(f"/api/monsters/{monster.pk}").json()
        assert body["name"] == monster.name and body["health"] == monster.health

    def test_unknown_monster_is_404(self, client, monsters):
        response = client.get("/api/monsters/999999999")
        assert response.status_code == 404
        assert response.json() == {"message": "No monster 999999999."}


class TestSimilar:
    def test_nearest_five_on_the_scaled_numbers_itself_excluded(self, client):
        target = MonsterFactory(level=10, rank=2, health=60.0, energy=60.0, sanity=60.0)
        close = [
            MonsterFactory(level=10, rank=2, health=60.0 + i, energy=60.0, sanity=60.0) for i in range(1, 6)
        ]
        MonsterFactory.create_batch(20, level=2, rank=0, health=4.0, energy=4.0, sanity=4.0)
        body = client.get(f"/api/monsters/{target.pk}/similar").json()
        assert [monster["id"] for monster in body] == [monster.pk for monster in close]

    def test_the_index_follows_data_changes(self, client):
        target = MonsterFactory(level=10, rank=2, health=60.0, energy=60.0, sanity=60.0)
        MonsterFactory.create_batch(6, level=2, rank=0)
        assert target.pk not in [m.pk for m in monsters_similar(target)]
        twin = MonsterFactory(level=10, rank=2, health=60.0, energy=60.0, sanity=60.0)
        from monsters.services import data_version_bump

        data_version_bump()
        assert monsters_similar(target)[0].pk == twin.pk

    def test_unknown_monster_is_404(self, client):
        response = client.get("/api/monsters/999999999/similar")
        assert response.status_code == 404
        assert response.json() == {"message": "No monster 999999999."}

    def test_detail_page_shows_the_similar_monsters(self, client, monsters):
        response = client.get(Monster.objects.first().get_absolute_url())
        assert response.status_code == 200
        assert len(response.context["similar"]) == 5
        assert "Most like it" in response.content.decode()
