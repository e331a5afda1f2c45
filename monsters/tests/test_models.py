import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from monsters.models import DataVersion, Monster
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db

GOOD_ROW = {
    "name": "Imp", "type": "Demonic", "level": 8, "rarity": "Rank 1", "damage": "8d4+4",
    "health": 31.6, "energy": 32.9, "sanity": 32.0,
}  # fmt: skip


def insert_raw(**changes) -> None:
    """INSERT one row with plain SQL, around the ORM and its validation."""
    row = {**GOOD_ROW, "created_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC), **changes}
    columns = ", ".join(row)
    placeholders = ", ".join(["%s"] * len(row))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO monsters_monster ({columns}) VALUES ({placeholders})", list(row.values())
        )


def test_a_good_row_goes_in_by_raw_sql():
    insert_raw()
    assert Monster.objects.get().damage == "8d4+4"


@pytest.mark.parametrize(
    "changes",
    [
        {"level": 0},
        {"level": 21},
        {"rarity": "Rank 6"},
        {"rarity": "rank 1"},
        {"type": "Goblin"},
        {"name": ""},
        {"health": -0.5},
        {"energy": float("inf")},
        {"sanity": float("nan")},
        {"damage": "8d5"},  # no such die
        {"damage": "7d4"},  # dice count must be the level
        {"damage": "8d4+6"},  # bonus is 1..5
        {"damage": "8d4 + 4"},
        {"damage": "lots"},
        {"name": "   "},
        {"name": "Imp\r"},
        {"name": "Imp\tKing"},
        {"name": "Imp\nKing"},
        {"name": "Imp\x7f"},
        {"health": 1.7976931348623157e308},
        {"energy": 1_000_000.5},
        {"created_at": dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)},
        {"created_at": dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=dt.UTC)},
        {"created_at": dt.datetime(2200, 1, 1, tzinfo=dt.UTC)},
    ],
    ids=lambda changes: "-".join(f"{k}={v}" for k, v in changes.items()),
)
def test_the_database_refuses_bad_rows_even_by_raw_sql(changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_raw(**changes)
    assert not Monster.objects.exists()


def test_model_validation_reports_the_dice_constraint():
    monster = MonsterFactory.build(level=3, damage="4d6")
    with pytest.raises(ValidationError, match="dice notation"):
        monster.full_clean()


def test_a_factory_monster_is_valid():
    MonsterFactory.build().full_clean()


def test_matching_combines_every_filter():
    MonsterFactory(name="Red Dragon", type="Dragon", level=5, rank=2)
    MonsterFactory(name="Red Dragon", type="Dragon", level=15, rank=2)
    MonsterFactory(name="Blue Dragon", type="Dragon", level=5, rank=2)
    MonsterFactory(name="Lich", type="Undead", level=5, rank=2)
    found = Monster.objects.matching(type="Dragon", rarity="Rank 2", level_min=4, level_max=6, q="red")
    assert [m.level for m in found] == [5]
    assert Monster.objects.matching().count() == 4
    assert Monster.objects.matching(q="DRAGON").count() == 3


def test_count_by_rarity_lists_every_rank_in_one_query(django_assert_num_queries):
    MonsterFactory.create_batch(3, rank=0)
    MonsterFactory(rank=5)
    with django_assert_num_queries(1):
        counts = Monster.objects.count_by_rarity()
    assert counts == {"Rank 0": 3, "Rank 1": 0, "Rank 2": 0, "Rank 3": 0, "Rank 4": 0, "Rank 5": 1}


def test_there_is_one_data_version_row():
    assert DataVersion.objects.get().number == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        DataVersion.objects.create(pk=2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram index is PostgreSQL only")
def test_name_search_can_use_the_trigram_index():
    """Unordered, so the plan does not hinge on the table's statistics (an empty table here)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Monster.objects.matching(q="lich").order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "monster_name_trigram" in plan


@pytest.mark.parametrize("q", ["a", "IC", "zz", "%", "_", "e "])
def test_short_name_searches_match_like_icontains(q, monkeypatch):
    for name in ("Lich", "Ice Devil", "Pit Fiend", "Imp", "100% Ghoul", "Odd_Name"):
        MonsterFactory(name=name)
    expected = set(Monster.objects.filter(name__icontains=q).values_list("name", flat=True))
    assert set(Monster.objects.matching(q=q).values_list("name", flat=True)) == expected
    monkeypatch.setattr("monsters.models.SHORT_SEARCH_MAX_NAMES", 2)  # too many names: plain filter
    assert set(Monster.objects.matching(q=q).values_list("name", flat=True)) == expected
