import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import pagination
from analytics.pagination import (
    EstimatedCountPaginator,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    offset_window,
)
from monsters.models import Monster
from monsters.selectors import extremes_refresh, matching_extremes, monster_table_page
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def monsters():
    monsters_seed(count=137, seed=5)
    return Monster.objects.all()


def walk(queryset, field, descending, size=10):
    """Every row, page by page, following next cursors."""
    seen, after = [], None
    while True:
        window = keyset_window(queryset, field=field, descending=descending, size=size, after=after)
        seen += [m.pk for m in window.rows]
        if not window.has_more:
            return seen
        last = window.rows[-1]
        after = (getattr(last, field), last.pk)


@pytest.mark.parametrize("field", ["type", "level", "health", "name", "created_at", "damage"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_walk_visits_every_row_once_in_order(monsters, field, descending):
    sign = "-" if descending else ""
    expected = list(monsters.order_by(f"{sign}{field}", f"{sign}pk").values_list("pk", flat=True))
    assert walk(monsters, field, descending) == expected


def test_keyset_before_gives_the_previous_page(monsters):
    ordered = list(monsters.order_by("level", "pk"))
    pivot = ordered[40]
    window = keyset_window(monsters, field="level", descending=False, size=10, before=(pivot.level, pivot.pk))
    assert window.rows == ordered[30:40]
    assert window.has_more
    window = keyset_window(
        monsters, field="level", descending=False, size=10, before=(ordered[5].level, ordered[5].pk)
    )
    assert window.rows == ordered[:5]
    assert not window.has_more


def test_offset_window_matches_plain_offset(monsters):
    ordered = list(monsters.order_by("-sanity", "-pk"))
    window = offset_window(monsters, field="sanity", descending=True, size=25, offset=100)
    assert window.rows == ordered[100:125]
    assert window.has_more
    window = offset_window(monsters, field="sanity", descending=True, size=25, offset=125)
    assert window.rows == ordered[125:]
    assert not window.has_more


def test_cursor_round_trips_each_field_type(monsters):
    monster = monsters.first()
    for field in ("name", "level", "health", "created_at"):
        token = encode_cursor(getattr(monster, field), monster.pk)
        value, pk = decode_cursor(token, Monster._meta.get_field(field))
        assert (value, pk) == (getattr(monster, field), monster.pk)
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(moment, 3), Monster._meta.get_field("created_at"))[0] == moment


@pytest.mark.parametrize(
    ("token", "field"),
    [
        ("not-base64!!", "level"),
        (encode_cursor("abc", 1), "level"),
        (encode_cursor(5, "x"), "level"),
        (encode_cursor(None, 1), "name"),
        (encode_cursor("yesterday", 1), "created_at"),
        (encode_cursor(5, True), "level"),
        ("WzEsMiwzXQ", "level"),  # [1,2,3]
    ],
)
def test_bad_cursors_raise_value_error(token, field):
    with pytest.raises(ValueError, match="Not a valid page cursor"):
        decode_cursor(token, Monster._meta.get_field(field))


def test_small_counts_are_exact(monsters):
    assert count_rows(monsters) == pagination.Count(137)
    assert count_rows(monsters.filter(level=3)).value == monsters.filter(level=3).count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner")
def test_large_counts_are_labelled_estimates(monsters, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 50)
    count = count_rows(monsters)
    assert count.is_estimate
    assert 51 <= count.value <= 1000  # the planner's figure, never below the limit
    assert not count_rows(monsters.filter(level=1, rarity="Rank 5")).is_estimate


def test_a_filter_that_can_match_nothing_counts_zero(monsters):
    assert count_rows(monsters.filter(pk__in=[])) == pagination.Count(0)
    page = monster_table_page(q="zz")  # two letters: the names containing them, here none
    assert page.count == pagination.Count(0) and page.rows == []


def test_estimated_count_paginator_counts_like_count_rows(monsters):
    assert EstimatedCountPaginator(monsters.order_by("pk"), 50).count == 137


# Filters correlated with the sort: the walk gets a short try, then the rows are fetched and sorted.

CORRELATED = [
    ({"level_min": 15}, "energy", False),
    ({"level_max": 2}, "health", True),
    ({"rarity": "Rank 0"}, "sanity", True),
    ({"type": "Fey"}, "health", True),
    ({"rarity": "Rank 3", "level_min": 5}, "damage", True),
]


def walk_routed(queryset, field, descending, share, size=25, extremes=None):
    """Every row by next cursors, routed as for a filter keeping `share` of the rows."""
    seen, after = [], None
    while True:
        window = keyset_window(
            queryset, field=field, descending=descending, size=size, after=after,
            unfiltered=Monster.objects.all(), share=share, extremes=extremes,
        )  # fmt: skip
        seen += [m.pk for m in window.rows]
        if not window.has_more:
            return seen
        last = window.rows[-1]
        after = (getattr(last, field), last.pk)


@pytest.mark.parametrize(("filters", "field", "descending"), CORRELATED)
@pytest.mark.parametrize("share", [0.0, 0.05, 0.5, 0.9])
def test_every_route_gives_the_rows_in_the_order_of_a_plain_sort(filters, field, descending, share):
    monsters_seed(count=3_000, seed=9)
    queryset = Monster.objects.matching(**filters)
    sign = "-" if descending else ""
    expected = list(queryset.order_by(f"{sign}{field}", f"{sign}pk").values_list("pk", flat=True))
    assert walk_routed(queryset, field, descending, share) == expected
    sixty_first = queryset.get(pk=expected[60])
    before = (getattr(sixty_first, field), sixty_first.pk)
    backwards = keyset_window(
        queryset, field=field, descending=descending, size=25, before=before,
        unfiltered=Monster.objects.all(), share=share,
    )  # fmt: skip
    assert [row.pk for row in backwards.rows] == expected[35:60]
    offset = offset_window(queryset, field=field, descending=descending, size=25, offset=50, share=share)
    assert [row.pk for row in offset.rows] == expected[50:75]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_fallback_sorts_the_matching_rows_instead_of_walking_the_sort_index():
    monsters_seed(count=2_000, seed=9)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    ordering = pagination._unindexed_ordering("energy", False)
    sql, params = Monster.objects.matching(level_min=15).order_by(*ordering)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sort" in plan and "monster_energy_id" not in plan


def test_the_share_of_matching_rows_comes_from_the_count():
    monsters_seed(count=300, seed=9)
    queryset = Monster.objects.matching(type="Fey")
    assert pagination.matching_share(Monster.objects.all(), count_rows(Monster.objects.all())) == 1.0
    assert pagination.matching_share(queryset, pagination.Count(40)) == 0.0  # exact: few
    share = pagination.matching_share(queryset, pagination.Count(150, is_estimate=True))
    assert share == pytest.approx(150 / pagination.table_rows(queryset))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row comparisons of PostgreSQL")
@pytest.mark.parametrize("field", ["id", "health", "name", "created_at", "level"])
@pytest.mark.parametrize("descending", [False, True])
def test_a_jump_from_the_nearest_anchor_lands_on_the_same_rows_as_a_plain_offset(
    field, descending, monkeypatch
):
    from monsters import selectors

    monsters_seed(count=400, seed=4)
    monkeypatch.setattr(pagination, "ANCHOR_EVERY", 7)
    monkeypatch.setattr(pagination, "ANCHORS_FROM_ROWS", 0)
    selectors.page_anchors_refresh()
    anchors = selectors.page_anchors(field)
    assert anchors["rows"] == 400 and len(anchors["keys"]) == 400 // 7
    queryset = Monster.objects.all()
    for offset in (0, 6, 7, 8, 50, 199, 342, 390, 399):
        plain = offset_window(queryset, field=field, descending=descending, size=10, offset=offset)
        anchored = offset_window(
            queryset, field=field, descending=descending, size=10, offset=offset, anchors=anchors
        )
        assert [m.pk for m in anchored.rows] == [m.pk for m in plain.rows], offset
        assert anchored.has_more == plain.has_more


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_walk_starts_at_the_cursor_not_at_the_first_row_of_its_value():
    monsters_seed(count=2_000, seed=9)  # seeded monsters share one created_at
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    created_at = Monster.objects.get(pk=1_000).created_at
    after = pagination.after_row("created_at", False, created_at, 1_000)
    query = Monster.objects.filter(after).order_by("created_at", "pk")[:10]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = json.dumps(cursor.fetchone()[0])
    assert '"Rows Removed by Filter": 0' in plan or "Rows Removed by Filter" not in plan
    assert [m.pk for m in query] == list(range(1_001, 1_011))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner")
def test_a_large_estimate_is_taken_without_counting_rows(monsters, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    monkeypatch.setattr(pagination, "TRUSTED_ESTIMATE", 100)
    with CaptureQueriesContext(connection) as queries:
        count = count_rows(monsters)
    assert count.is_estimate and count.value > 100
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner")
def test_a_page_that_holds_every_match_counts_them_exactly(monsters, monkeypatch):
    monkeypatch.setattr(pagination, "TRUSTED_ESTIMATE", 0)  # every estimate is taken
    expected = Monster.objects.matching(level_max=2).count()
    page = monster_table_page(sort="health", page=1, per_page=200, level_max=2)
    assert page.count == pagination.Count(expected)
    assert len(page.rows) == expected


# Where a filter's rows lie in a sort order: the extremes of each level, type and rarity.


@pytest.mark.parametrize(("filters", "field", "descending"), CORRELATED)
@pytest.mark.parametrize("share", [0.05, 0.9])
def test_the_walk_from_a_filters_extremes_gives_the_rows_of_a_plain_sort(filters, field, descending, share):
    monsters_seed(count=3_000, seed=9)
    extremes_refresh()
    queryset = Monster.objects.matching(**filters)
    extremes = matching_extremes(field, filters)
    assert extremes is not None
    values = list(queryset.values_list(field, flat=True))
    assert extremes[0] <= min(values) and max(values) <= extremes[1]
    sign = "-" if descending else ""
    expected = list(queryset.order_by(f"{sign}{field}", f"{sign}pk").values_list("pk", flat=True))
    assert walk_routed(queryset, field, descending, share, extremes=extremes) == expected
    offset = offset_window(
        queryset, field=field, descending=descending, size=25, offset=50, share=share,
        unfiltered=Monster.objects.all(), extremes=extremes,
    )  # fmt: skip
    assert [row.pk for row in offset.rows] == expected[50:75]
    page = monster_table_page(sort=f"{sign}{field}", per_page=25, **filters)
    assert [m.pk for m in page.rows] == expected[:25]


def test_the_extremes_of_one_value_are_its_rows_own():
    monsters_seed(count=2_000, seed=4)
    extremes_refresh()
    level_five = Monster.objects.filter(level=5)
    for field in ("health", "sanity", "damage"):
        values = list(level_five.values_list(field, flat=True))
        assert matching_extremes(field, {"level_min": 5, "level_max": 5}) == (min(values), max(values))
    assert matching_extremes("created_at", {"level_min": 5}) is None  # times do not go with the level
    assert matching_extremes("health", {"q": "lich"}) is None  # no filter by value


def test_extremes_of_an_older_data_version_are_never_used():
    monsters_seed(count=500, seed=4)
    extremes_refresh()
    assert matching_extremes("health", {"type": "Fey"}) is not None
    monsters_seed(count=10, seed=5)  # an append: a new data version
    assert matching_extremes("health", {"type": "Fey"}) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the routes are PostgreSQL's")
def test_a_filter_keeping_most_rows_gets_a_long_walk_before_any_sort(monkeypatch):
    """Most levels sorted by energy: the lowest energies are the low levels', past the short try."""
    monsters_seed(count=3_000, seed=9)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    queryset = Monster.objects.matching(level_min=3)
    share = queryset.count() / 3_000
    monkeypatch.setattr(pagination, "PROBE_MAX_ROWS", 20)  # the short try finds too few
    monkeypatch.setattr(pagination, "LONG_WALK_SHARE", 1.0)  # as on a table of millions
    assert pagination._probes(26, share, Monster.objects.all()) == [20, int(share * 3_000)]
    expected = list(queryset.order_by("energy", "pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        assert walk_routed(queryset, "energy", False, share) == expected
    assert not [q["sql"] for q in queries.captured_queries if "COALESCE" in q["sql"]]  # never sorted
