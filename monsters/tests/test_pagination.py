import datetime as dt

import pytest
from django.db import connection

from monsters import pagination
from monsters.models import Monster
from monsters.pagination import (
    EstimatedCountPaginator,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    offset_window,
)
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


def test_estimated_count_paginator_counts_like_count_rows(monsters):
    assert EstimatedCountPaginator(monsters.order_by("pk"), 50).count == 137
