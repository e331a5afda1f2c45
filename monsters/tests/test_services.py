import csv
import io

import pytest
from django.db import connection

from monsters import services
from monsters.models import DataVersion, Monster
from monsters.services import monsters_export_rows, monsters_seed
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db
FIELDS = ("name", "type", "level", "rarity", "damage", "health", "energy", "sanity")


def snapshot() -> list[tuple]:
    return list(Monster.objects.order_by("pk").values_list(*FIELDS))


def index_names() -> set[str]:
    """The table's indexes, the primary key's marked as such."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "monsters_monster")
    return {
        f"{name} (primary key)" if info["primary_key"] else name
        for name, info in constraints.items()
        if info["index"]
    }


def test_seed_adds_count_valid_monsters():
    assert monsters_seed(count=300, seed=1) == 300
    assert Monster.objects.count() == 300
    for monster in Monster.objects.all()[:50]:
        monster.full_clean()


def test_seed_with_a_seed_is_reproducible():
    monsters_seed(count=120, seed=7, reset=True)
    first = snapshot()
    monsters_seed(count=120, seed=7, reset=True)
    assert snapshot() == first
    monsters_seed(count=120, seed=8, reset=True)
    assert snapshot() != first


def test_seed_appends_unless_reset():
    MonsterFactory.create_batch(5)
    monsters_seed(count=10, seed=1)
    assert Monster.objects.count() == 15
    monsters_seed(count=10, seed=1, reset=True)
    assert Monster.objects.count() == 10
    assert not Monster.objects.filter(name__startswith="Test Monster").exists()


def test_reset_restarts_ids_at_one():
    monsters_seed(count=10, seed=1)
    monsters_seed(count=3, seed=1, reset=True)
    assert sorted(Monster.objects.values_list("pk", flat=True)) == [1, 2, 3]


def test_seed_bumps_the_data_version():
    before = DataVersion.current()
    monsters_seed(count=5, seed=1)
    assert DataVersion.objects.get().number == 1
    assert DataVersion.current() != before


def test_seed_reports_progress_per_chunk(monkeypatch):
    monkeypatch.setattr(services, "SEED_CHUNK_SIZE", 40)
    seen = []
    monsters_seed(count=100, seed=1, on_progress=seen.append)
    assert seen == [40, 80, 100]


def test_a_failure_halfway_leaves_the_table_as_it_was(monkeypatch):
    MonsterFactory.create_batch(4)
    before, indexes = snapshot(), index_names()
    monkeypatch.setattr(services, "SEED_CHUNK_SIZE", 50)

    def fail_after_first_chunk(done: int) -> None:
        if done > 50:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        monsters_seed(count=200, seed=1, reset=True, on_progress=fail_after_first_chunk)
    assert snapshot() == before
    assert index_names() == indexes  # dropped indexes are back (PostgreSQL)


def test_negative_count_is_refused():
    with pytest.raises(ValueError):
        monsters_seed(count=-1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY path is PostgreSQL only")
def test_copy_keeps_every_index():
    indexes = index_names()
    assert "monster_name_trigram" in indexes
    monsters_seed(count=2_000, seed=3, reset=True)  # larger than the table: indexes rebuilt
    assert index_names() == indexes
    monsters_seed(count=10, seed=4)  # small append: indexes kept in place
    assert index_names() == indexes
    assert Monster.objects.count() == 2_010


def test_postgresql_and_sqlite_store_the_same_monsters_for_a_seed():
    """The COPY encoder and bulk_create must agree: compare with the generator itself."""
    import numpy as np

    from monsters.generator import generate_monsters

    monsters_seed(count=50, seed=11, reset=True)
    expected = generate_monsters(50, rng=np.random.default_rng(11))
    stored = snapshot()
    assert [row[0] for row in stored] == expected["name"].astype(str).tolist()
    assert [row[5] for row in stored] == expected["health"].tolist()
    assert [row[4] for row in stored] == expected["damage"].astype(str).tolist()


def test_export_rows_start_with_a_header_and_follow_the_queryset():
    MonsterFactory(name="Alpha", level=3, rank=1)
    MonsterFactory(name="Beta", level=4, rank=1)
    rows = list(monsters_export_rows(Monster.objects.order_by("-name")))
    assert rows[0] == (*FIELDS, "created_at")
    assert [row[0] for row in rows[1:]] == ["Beta", "Alpha"]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert out.getvalue().splitlines()[1].startswith("Beta,")


def open_cursors() -> list[bool]:
    """Whether each server-side cursor Django has open on this connection is held (WITH HOLD)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%'")
        return [held for (held,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's server-side cursors")
class TestExportStreaming:
    """As a server runs it: outside a transaction, one chunk of rows at a time."""

    def test_rows_come_from_a_cursor_that_is_not_held(self):
        """A cursor WITH HOLD would compute and store every row before handing over the first."""
        monsters_seed(count=12_000, seed=3)
        rows = monsters_export_rows(Monster.objects.order_by("-health", "pk"))
        assert next(rows) == (*FIELDS, "created_at")
        next(rows)
        assert open_cursors() == [False]
        assert sum(1 for _ in rows) == 12_000 - 1
        assert not connection.in_atomic_block

    def test_a_download_stopped_halfway_leaves_no_transaction_open(self):
        monsters_seed(count=6_000, seed=3)
        rows = monsters_export_rows(Monster.objects.order_by("pk"))
        for _ in range(10):
            next(rows)
        assert connection.in_atomic_block
        rows.close()  # what the server does when the client goes away
        assert not connection.in_atomic_block
        assert open_cursors() == []
