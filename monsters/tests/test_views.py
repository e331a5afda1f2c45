import csv
import io
import re

import psycopg2
import pytest
from django.db import connection
from django.urls import reverse

from analytics import table
from analytics.pagination import Count
from monsters.models import Monster
from monsters.services import monsters_seed
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db
DATA = reverse("monsters:data")


def row_ids(response) -> list[int]:
    return [m.pk for m in response.context["page"].rows]


def summary(response) -> str:
    """The table's summary line as a reader sees it: no tags, single spaces."""
    line = re.search(r'<div class="table-summary">\s*<p>(.*?)</p>', response.content.decode(), re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", line).split())


@pytest.fixture
def monsters():
    monsters_seed(count=180, seed=3)
    return Monster.objects.all()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("reader", password="pw-for-tests-1")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "keeper", password="pw-for-tests-1", is_staff=True, is_superuser=True
    )


class TestHome:
    def test_shows_counts_by_rarity_and_a_fresh_monster(self, client, monsters):
        response = client.get(reverse("monsters:home"))
        assert response.status_code == 200
        by_rarity = dict(response.context["counts"].by_rarity)
        assert sum(by_rarity.values()) == response.context["counts"].total == 180
        assert by_rarity["Rank 0"] == monsters.filter(rarity="Rank 0").count()
        content = response.content.decode()
        assert response.context["card"]["name"] in content
        assert "180 monsters in the database" in content

    def test_counts_follow_the_data(self, client, monsters):
        client.get(reverse("monsters:home"))
        monsters_seed(count=20, seed=1)
        assert client.get(reverse("monsters:home")).context["counts"].total == 200

    def test_footer_tells_the_time_taken_and_header_has_server_timing(self, client):
        response = client.get(reverse("monsters:home"))
        assert re.search(r"Page computed in \d+ ms", response.content.decode())
        assert re.fullmatch(r"app;dur=\d+\.\d", response["Server-Timing"])


class TestDataPage:
    def test_first_page_has_fifty_rows_in_id_order_and_the_count(self, client, monsters):
        response = client.get(DATA)
        assert response.status_code == 200
        assert row_ids(response) == list(monsters.order_by("pk").values_list("pk", flat=True)[:50])
        assert "180 matching monsters" in response.content.decode()
        assert "page 1 of 4" in response.content.decode()

    def test_the_form_shows_the_default_page_size(self, client):
        assert '<option value="50" selected>' in client.get(DATA).content.decode()

    def test_rows_link_to_their_detail_page(self, client, monsters):
        first = monsters.order_by("pk").first()
        assert f'href="/monsters/{first.pk}/"' in client.get(DATA).content.decode()

    @pytest.mark.parametrize(
        "field",
        ["id", "name", "type", "level", "rarity", "damage", "health", "energy", "sanity", "created_at"],
    )
    @pytest.mark.parametrize("sign", ["", "-"])
    def test_sorts_by_every_column_both_ways(self, client, monsters, field, sign):
        response = client.get(DATA, {"sort": f"{sign}{field}", "per_page": 25})
        expected = monsters.order_by(f"{sign}{field}", f"{sign}pk").values_list("pk", flat=True)[:25]
        assert row_ids(response) == list(expected)

    def test_filters_combine(self, client, monsters):
        params = {"type": "Dragon", "rarity": "Rank 0", "level_min": 2, "level_max": 9, "q": "drag"}
        response = client.get(DATA, params)
        expected = monsters.filter(
            type="Dragon", rarity="Rank 0", level__gte=2, level__lte=9, name__icontains="drag"
        )
        assert sorted(row_ids(response)) == sorted(expected.values_list("pk", flat=True))
        assert response.context["page"].count.value == expected.count()

    def test_resource_ranges_filter_and_stay_in_the_links(self, client, monsters):
        params = {"health_min": "20.5", "health_max": "60", "sanity_min": "25", "per_page": 10}
        response = client.get(DATA, params)
        expected = monsters.filter(health__gte=20.5, health__lte=60, sanity__gte=25)
        assert response.context["page"].count.value == expected.count()
        assert all(20.5 <= m.health <= 60 and m.sanity >= 25 for m in response.context["page"].rows)
        next_link = re.search(r'rel="next" href="([^"]+)"', response.content.decode()).group(1)
        assert "health_min=20.5" in next_link and "sanity_min=25" in next_link

    @pytest.mark.parametrize("sort", ["id", "-id", "level", "-name"])
    def test_a_range_of_ids_shows_exactly_those_rows_in_any_order(self, client, monsters, sort):
        ids = list(monsters.order_by("pk").values_list("pk", flat=True))
        low, high = ids[120], ids[149]
        params = {"id_min": low, "id_max": high, "sort": sort, "per_page": 25}
        response = client.get(DATA, params)
        tie = "-pk" if sort.startswith("-") else "pk"
        expected = list(
            monsters.filter(pk__gte=low, pk__lte=high).order_by(sort, tie).values_list("pk", flat=True)
        )
        assert row_ids(response) == expected[:25]
        assert response.context["page"].count.value == 30
        following = client.get(DATA, {**params, "page": 2, "after": response.context["page"].next_cursor})
        assert row_ids(following) == expected[25:]
        next_link = re.search(r'rel="next" href="([^"]+)"', response.content.decode()).group(1)
        assert f"id_min={low}" in next_link and f"id_max={high}" in next_link

    def test_the_filter_form_keeps_a_range_of_ids(self, client, monsters):
        """Apply on the rows an import added keeps them (the form has no boxes for ids)."""
        content = client.get(DATA, {"id_min": 7, "id_max": 9}).content.decode()
        form = content[content.index('class="filters"') : content.index("</form>")]
        assert '<input type="hidden" name="id_min" value="7">' in form
        assert '<input type="hidden" name="id_max" value="9">' in form
        assert 'name="id_min"' not in client.get(DATA).content.decode()

    def test_an_open_range_of_ids_walks_from_its_end(self, client, monsters):
        ids = list(monsters.order_by("pk").values_list("pk", flat=True))
        assert row_ids(client.get(DATA, {"id_min": ids[170]})) == ids[170:]
        assert row_ids(client.get(DATA, {"id_max": ids[4], "sort": "-id"})) == ids[4::-1]

    def test_no_match_says_so(self, client, monsters):
        response = client.get(DATA, {"q": "no such monster"})
        assert response.status_code == 200
        assert "No monsters match these filters." in response.content.decode()
        assert "0 matching monsters" in response.content.decode()

    @pytest.mark.parametrize("per_page", [10, 25, 50, 100, 200])
    def test_page_size_choice(self, client, monsters, per_page):
        assert len(row_ids(client.get(DATA, {"per_page": per_page}))) == min(per_page, 180)

    def test_next_and_previous_links_walk_the_table(self, client, monsters):
        expected = list(monsters.order_by("-health", "-pk").values_list("pk", flat=True))
        response = client.get(DATA, {"sort": "-health", "per_page": 50})
        seen = row_ids(response)
        pages = [response]
        while response.context["page"].next_cursor:
            response = client.get(
                DATA,
                {
                    "sort": "-health",
                    "per_page": 50,
                    "page": response.context["page"].next_number,
                    "after": response.context["page"].next_cursor,
                },
            )
            assert response.status_code == 200
            seen += row_ids(response)
            pages.append(response)
        assert seen == expected
        assert pages[-1].context["page"].number == 4
        last = pages[-1].context["page"]
        back = client.get(
            DATA, {"sort": "-health", "per_page": 50, "page": 3, "before": last.previous_cursor}
        )
        assert row_ids(back) == expected[100:150]
        assert row_ids(pages[2]) == row_ids(back)

    def test_the_page_links_carry_the_filters(self, client, monsters):
        content = client.get(DATA, {"type": "Fey", "sort": "level", "per_page": 10}).content.decode()
        next_link = re.search(r'rel="next" href="([^"]+)"', content).group(1)
        assert "type=Fey" in next_link and "sort=level" in next_link and "after=" in next_link

    def test_jump_to_a_page_and_to_the_last_page(self, client, monsters):
        ordered = list(monsters.order_by("name", "pk").values_list("pk", flat=True))
        assert row_ids(client.get(DATA, {"sort": "name", "page": 3})) == ordered[100:150]
        last = client.get(DATA, {"sort": "name", "page": "last"})
        assert row_ids(last) == ordered[150:]
        assert last.context["page"].number == 4
        assert last.context["page"].next_cursor is None

    def test_query_count_does_not_grow_with_rows(self, client, django_assert_max_num_queries):
        MonsterFactory.create_batch(2)
        with django_assert_max_num_queries(8) as few:
            client.get(DATA)
        MonsterFactory.create_batch(40)
        with django_assert_max_num_queries(8) as many:
            client.get(DATA)
        assert len(few.captured_queries) == len(many.captured_queries)

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"page": "abc"}, "Enter a page number"),
            ({"page": "0"}, "Enter a page number"),
            ({"page": "-2"}, "Enter a page number"),
            ({"sort": "nope"}, "Select a valid choice"),
            ({"sort": "-password"}, "Select a valid choice"),
            ({"level_min": "-5"}, "greater than or equal to 1"),
            ({"level_max": "21"}, "less than or equal to 20"),
            ({"level_min": "9", "level_max": "3"}, "Must not be below the lower bound"),
            ({"per_page": "7"}, "Select a valid choice"),
            ({"per_page": "1000000"}, "Select a valid choice"),
            ({"type": "Robot"}, "Select a valid choice"),
            ({"rarity": "Rank 9"}, "Select a valid choice"),
            ({"after": "garbage!!"}, "Not a valid page cursor"),
            ({"sort": "level", "after": "WyJhYmMiLDFd"}, "Not a valid page cursor"),
            ({"after": "WzEsMV0", "before": "WzEsMV0"}, "either after or before"),
            ({"q": "x" * 65}, "at most 64 characters"),
            ({"health_min": "nan"}, "Enter a number"),
            ({"energy_max": "inf"}, "Enter a number"),
            ({"sanity_min": "-1"}, "greater than or equal to 0"),
            ({"health_min": "50", "health_max": "10"}, "Must not be below the lower bound"),
            ({"id_min": "9", "id_max": "3"}, "Must not be below the lower bound"),
            ({"id_min": "abc"}, "Enter a whole number"),
            ({"id_max": "0"}, "greater than or equal to 1"),
            ({"id_min": str(2**63)}, "less than or equal to 9223372036854775807"),
        ],
    )
    def test_bad_parameters_give_a_400_page_that_says_why(self, client, monsters, params, message):
        response = client.get(DATA, params)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert "Start again with every monster" in response.content.decode()

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"level_max": "21"}, "Level to: Ensure this value is less than or equal to 20."),
            ({"level_min": "9", "level_max": "3"}, "Level to: Must not be below the lower bound."),
            ({"health_min": "lots"}, "Health from: Enter a number."),
            ({"q": "x" * 65}, "Name contains: Ensure this value has at most 64 characters (it has 65)."),
            ({"per_page": "7"}, "Rows per page: Select a valid choice."),
        ],
    )
    def test_errors_name_the_field_as_the_form_labels_it(self, client, params, message):
        content = client.get(DATA, params).content.decode()
        assert message in content
        assert "<code>" not in content and "level_max:" not in content

    def test_empty_parameters_are_no_filter(self, client, monsters):
        params = {"q": "", "type": "", "level_min": "", "health_max": "", "page": "", "sort": ""}
        response = client.get(DATA, params)
        assert response.status_code == 200
        assert response.context["page"].count.value == 180
        assert response.context["chips"] == []

    def test_the_summary_says_which_rows_the_page_shows(self, client, monsters):
        assert summary(client.get(DATA)) == "Rows 1–50 of 180 matching monsters · page 1 of 4"
        assert summary(client.get(DATA, {"page": 2})) == "Rows 51–100 of 180 matching monsters · page 2 of 4"
        assert (
            summary(client.get(DATA, {"page": "last"}))
            == "Rows 151–180 of 180 matching monsters · page 4 of 4"
        )
        MonsterFactory(name="Solitary Snark")
        assert summary(client.get(DATA, {"q": "solitary"})) == "Row 1 of 1 matching monster"
        assert summary(client.get(DATA, {"q": "no such monster"})) == "0 matching monsters"

    def test_an_estimated_count_reads_about(self, client, monsters, monkeypatch):
        """PostgreSQL's estimate for a large table, stood in for on any database."""
        monkeypatch.setattr(table, "count_rows", lambda queryset: Count(1_000_000, is_estimate=True))
        expected = "Rows 51–100 of about 1,000,000 matching monsters · page 2 of about 20,000"
        assert summary(client.get(DATA, {"page": 2})) == expected
        assert (
            summary(client.get(DATA, {"page": "last"})) == "The last 50 of about 1,000,000 matching monsters"
        )

    def test_a_page_past_the_end_sends_to_the_last_page(self, client, monsters):
        response = client.get(DATA, {"type": "Fey", "q": "", "per_page": 10, "page": 999})
        fey = monsters.filter(type="Fey").count()
        last = -(-fey // 10)
        assert response.status_code == 302
        assert response["Location"] == f"{DATA}?type=Fey&per_page=10&page={last}"
        shown = client.get(response["Location"])
        expected = monsters.filter(type="Fey").order_by("pk").values_list("pk", flat=True)[(last - 1) * 10 :]
        assert row_ids(shown) == list(expected)
        assert "No monsters match" not in shown.content.decode()

    def test_a_page_past_the_end_of_nothing_is_the_first(self, client, monsters):
        response = client.get(DATA, {"q": "no such monster", "page": 3})
        assert response.status_code == 302 and response["Location"] == f"{DATA}?q=no+such+monster"

    def test_a_next_link_past_the_end_keeps_its_label(self, client, monsters):
        """A page number that came with a cursor only labels the page: no redirect."""
        page_two = client.get(DATA, {"page": 2}).context["page"]
        response = client.get(DATA, {"page": 9, "after": page_two.next_cursor})
        assert response.status_code == 200

    def test_chips_show_the_filters_in_force_each_removable(self, client, monsters):
        params = {
            "type": "Dragon",
            "level_min": "3",
            "q": "dra",
            "health_max": "",
            "sort": "-level",
            "page": "last",
        }
        response = client.get(DATA, params)
        chips = [(chip.label, chip.value, chip.remove_query) for chip in response.context["chips"]]
        assert chips == [
            ("Type", "Dragon", "?level_min=3&q=dra&sort=-level"),
            ("Level from", "3", "?type=Dragon&q=dra&sort=-level"),
            ("Name contains", "dra", "?type=Dragon&level_min=3&sort=-level"),
        ]
        content = response.content.decode()
        assert 'href="?level_min=3&amp;q=dra&amp;sort=-level"' in content
        assert "Remove the filter </span>Type: <strong>Dragon</strong>" in content
        assert re.search(r'<a class="clear-filters" href="\?sort=-level">Clear all</a>', content)

    def test_a_chip_shows_a_number_as_typed(self, client, monsters):
        response = client.get(DATA, {"health_min": "20", "health_max": "60.5"})
        assert [(chip.label, chip.value) for chip in response.context["chips"]] == [
            ("Health from", "20"), ("Health to", "60.5"),
        ]  # fmt: skip

    def test_no_chips_without_filters(self, client, monsters):
        content = client.get(DATA, {"sort": "name"}).content.decode()
        assert "Filters in force" not in content and "Clear all" not in content

    def test_the_page_box_shows_only_when_there_are_pages_to_jump_to(self, client, monsters):
        assert 'name="page"' in client.get(DATA).content.decode()
        one_page = client.get(DATA, {"per_page": 200}).content.decode()
        assert 'name="page"' not in one_page and 'class="jump"' not in one_page
        assert 'name="page"' not in client.get(DATA, {"q": "no such monster"}).content.decode()

    def test_the_page_box_carries_the_filters_given_but_not_the_empty_ones(self, client, monsters):
        content = client.get(DATA, {"type": "Fey", "q": "", "per_page": 10}).content.decode()
        jump = re.search(r'<form method="get" class="jump">(.*?)</form>', content, re.S).group(1)
        assert '<input type="hidden" name="type" value="Fey">' in jump
        assert 'name="q"' not in jump

    def test_the_filter_form_asks_for_suggestions(self, client):
        content = client.get(DATA).content.decode()
        assert 'data-suggest-url="/data/names"' in content and "data-drop-empty" in content
        assert re.search(r'<input type="text" name="q"[^>]*data-suggest-from="3"', content)
        assert re.search(r'<script src="/static/js/suggest.js" defer>', content)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
    @pytest.mark.django_db(transaction=True)
    def test_a_slow_query_is_stopped_with_a_message(self, client, settings):
        """A table locked by someone else stands in for a query that runs too long."""
        settings.DATA_QUERY_TIMEOUT_MS = 200
        db = connection.settings_dict
        other = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432)
        try:
            with other.cursor() as cursor:
                cursor.execute("LOCK TABLE monsters_monster IN ACCESS EXCLUSIVE MODE")
            response = client.get(DATA)
        finally:
            other.rollback()
            other.close()
        assert response.status_code == 503
        assert "took too long to compute and was stopped" in response.content.decode()
        assert client.get(DATA).status_code == 200


class TestNameSuggestions:
    url = reverse("monsters:names")

    @pytest.fixture
    def named(self):
        for name in (
            "Red Dragon",
            "Blue Dragon",
            "Blue Dragon",
            "Pseudodragon",
            "Dracolich",
            "Goblin Shaman",
        ):
            MonsterFactory(name=name)

    def test_names_containing_the_text_those_starting_with_it_first(self, client, named):
        response = client.get(self.url, {"q": "DRA"})
        assert response.status_code == 200
        assert response.json() == {"suggestions": ["Dracolich", "Blue Dragon", "Red Dragon", "Pseudodragon"]}

    def test_at_most_ten_distinct_names(self, client):
        for n in range(15):
            MonsterFactory.create_batch(2, name=f"Orc Chief {n:02}")
        suggestions = client.get(self.url, {"q": "orc"}).json()["suggestions"]
        assert suggestions == [f"Orc Chief {n:02}" for n in range(10)]

    def test_percent_and_underscore_are_plain_characters(self, client):
        for name in ("100% Ogre", "1000 Ogre", "Ra_bbit", "Rabbit", "Raxbbit"):
            MonsterFactory(name=name)
        assert client.get(self.url, {"q": "00%"}).json() == {"suggestions": ["100% Ogre"]}
        assert client.get(self.url, {"q": "a_b"}).json() == {"suggestions": ["Ra_bbit"]}
        assert client.get(self.url, {"q": "%%%"}).json() == {"suggestions": []}

    def test_nothing_before_three_characters(self, client, named):
        """The trigram index answers from three characters on; fewer would read the table."""
        assert client.get(self.url, {"q": "dr"}).json() == {"suggestions": []}

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({}, "q: Give the text to complete."),
            ({"q": ""}, "q: Give the text to complete."),
            ({"q": "   "}, "q: Give the text to complete."),
            ({"q": "x" * 65}, "q: Ensure this value has at most 64 characters (it has 65)."),
        ],
    )
    def test_bad_input_is_a_400_that_names_the_parameter(self, client, params, message):
        response = client.get(self.url, params)
        assert response.status_code == 400
        assert response.json() == {"message": message}

    def test_only_get(self, client):
        assert client.post(self.url, {"q": "dra"}).status_code == 405

    def test_the_query_count_does_not_grow_with_rows(self, client, django_assert_max_num_queries):
        MonsterFactory.create_batch(3, name="Red Dragon")
        with django_assert_max_num_queries(5) as few:
            client.get(self.url, {"q": "dra"})
        MonsterFactory.create_batch(30, name="Red Dragon")
        with django_assert_max_num_queries(5) as many:
            client.get(self.url, {"q": "dra"})
        assert len(few.captured_queries) == len(many.captured_queries)


class TestDetail:
    def test_shows_every_field(self, client):
        monster = MonsterFactory(name="Pit Fiend", type="Demonic", level=12, rank=3, damage="12d8+2")
        content = client.get(monster.get_absolute_url()).content.decode()
        for text in ("Pit Fiend", "Demonic", "Rank 3", "12d8+2", f"{monster.health:.2f}"):
            assert text in content

    def test_unknown_monster_is_404(self, client):
        assert client.get(reverse("monsters:detail", args=[999999])).status_code == 404


class TestExport:
    url = reverse("monsters:export")

    def read_csv(self, response) -> list[list[str]]:
        assert response.streaming
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    def test_anonymous_is_sent_to_sign_in(self, client, monsters):
        response = client.get(self.url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    @pytest.mark.parametrize("who", ["user", "staff"])
    def test_signed_in_users_get_the_filtered_view_as_csv(self, client, monsters, request, who):
        client.force_login(request.getfixturevalue(who))
        response = client.get(self.url, {"type": "Undead", "sort": "-level", "page": "2"})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="monsters.csv"' in response["Content-Disposition"]
        rows = self.read_csv(response)
        assert rows[0] == [
            "name",
            "type",
            "level",
            "rarity",
            "damage",
            "health",
            "energy",
            "sanity",
            "created_at",
        ]
        expected = monsters.filter(type="Undead").order_by("-level", "pk")
        assert len(rows) - 1 == expected.count()  # every matching row, not one page
        assert [row[0] for row in rows[1:]] == list(expected.values_list("name", flat=True))

    def test_text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe_numbers_stay_numbers(
        self, client, user
    ):
        names = {
            "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
            "+SUM(1)": "'+SUM(1)",
            "-2+3": "'-2+3",
            "@SUM(1)": "'@SUM(1)",
            "'=looks neutralised": "''=looks neutralised",  # one more, so the import can undo it
            "'Twas brillig": "'Twas brillig",
            "Imp = 2 + 2": "Imp = 2 + 2",
        }
        for name in names:
            MonsterFactory(name=name, level=3, rank=1, health=12.5, energy=0.0, sanity=7.25)
        client.force_login(user)
        header, *rows = self.read_csv(client.get(self.url, {"sort": "id"}))
        assert [row[0] for row in rows] == list(names.values())
        numbers = [header.index(column) for column in ("level", "health", "energy", "sanity")]
        assert {tuple(row[i] for i in numbers) for row in rows} == {("3", "12.5", "0.0", "7.25")}

    def test_a_range_of_ids_exports_exactly_those_rows(self, client, user, monsters):
        ids = list(monsters.order_by("pk").values_list("pk", flat=True))
        client.force_login(user)
        rows = self.read_csv(client.get(self.url, {"id_min": ids[10], "id_max": ids[12]}))
        assert [row[0] for row in rows[1:]] == [monster.name for monster in monsters.order_by("pk")[10:13]]

    def test_bad_filters_are_a_400(self, client, user):
        client.force_login(user)
        response = client.get(self.url, {"level_min": "abc"})
        assert response.status_code == 400
        assert b"level_min" in response.content

    def test_the_data_page_offers_the_download_to_signed_in_users_only(self, client, user, monsters):
        assert "Sign in to download as CSV" in client.get(DATA).content.decode()
        client.force_login(user)
        assert "/data/export.csv?" in client.get(DATA, {"type": "Fey"}).content.decode()


class TestAdmin:
    url = reverse("admin:monsters_monster_changelist")

    def test_staff_list_search_and_filter(self, client, staff, monsters):
        client.force_login(staff)
        response = client.get(self.url, {"q": "dragon", "type__exact": "Dragon", "o": "-7"})
        assert response.status_code == 200
        shown = list(response.context["cl"].result_list)
        assert shown and all(m.type == "Dragon" and "dragon" in m.name.lower() for m in shown)

    def test_plain_users_and_anonymous_are_kept_out(self, client, user):
        """Anonymous: the admin's sign-in; signed in without staff rights: 403."""
        assert client.get(self.url).status_code == 302
        client.force_login(user)
        assert client.get(self.url).status_code == 403

    def test_no_full_count_per_page_view(self, client, staff, monsters, django_assert_max_num_queries):
        client.force_login(staff)
        with django_assert_max_num_queries(12) as queries:
            client.get(self.url)
        counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
        assert len(counts) == 1  # the paginator's; no second "of N total" count
        if connection.vendor == "postgresql":
            assert "LIMIT 10001" in counts[0]  # capped: large tables are estimated

    def test_editing_a_monster_updates_the_home_counts(self, client, staff, monsters):
        client.force_login(staff)
        assert client.get(reverse("monsters:home")).context["counts"].total == 180
        monster = monsters.first()
        client.post(reverse("admin:monsters_monster_delete", args=[monster.pk]), {"post": "yes"})
        assert client.get(reverse("monsters:home")).context["counts"].total == 179
