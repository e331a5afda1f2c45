"""Bulk loads: serialised, all or nothing, and readers keep reading the old rows until the swap."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from monsters import loading
from monsters.loading import LoadBusy, LoadConflict
from monsters.models import Monster
from monsters.services import data_version_bump, monsters_seed

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL locks")


def other_connection():
    """A second connection to the test database, as another web process would hold."""
    other = connections.create_connection("default")
    other.inc_thread_sharing()  # progress callbacks run in the encoding thread
    return other


def holding_the_load_lock():
    """Another session holding the bulk-load lock (as a load in another process does)."""
    holder = other_connection()
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [loading.LOAD_LOCK_KEY])
    return holder


def count_from(other, *, timeout_ms: int) -> int:
    with other.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [timeout_ms])
        cursor.execute("SELECT count(*) FROM monsters_monster")
        return cursor.fetchone()[0]


@postgresql_only
@pytest.mark.django_db(transaction=True)
class TestReadersDuringALoad:
    def test_readers_see_the_old_rows_without_waiting_while_a_reseed_runs(self, monkeypatch):
        monsters_seed(count=500, seed=1)
        monkeypatch.setattr("monsters.services.SEED_CHUNK_SIZE", 5_000)
        reader = other_connection()
        seen = []

        def read_while_loading(done: int) -> None:
            if done == 5_000:  # the COPY has begun; without staging the indexes are gone and locked
                seen.append(count_from(reader, timeout_ms=1_000))

        try:
            monsters_seed(count=30_000, seed=2, reset=True, on_progress=read_while_loading)
            assert seen == [500]
            assert count_from(reader, timeout_ms=1_000) == 30_000
        finally:
            reader.close()

    def test_predictions_and_liveness_never_touch_the_monster_table(self, client):
        from ml.services import model_version_train

        monsters_seed(count=300, seed=1)
        model_version_train(seed=1)
        locker = other_connection()
        locker.set_autocommit(False)
        try:
            with locker.cursor() as cursor:  # what the swap of a load holds, for as long as it likes
                cursor.execute("LOCK TABLE monsters_monster IN ACCESS EXCLUSIVE MODE")
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 2000")  # a wait would fail the test, not hang it
            body = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
            assert client.post("/api/predict", body, content_type="application/json").status_code == 200
            assert client.get("/api/live").status_code == 200
        finally:
            locker.rollback()
            locker.close()
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")

    def test_a_reseed_keeps_every_index_and_the_primary_key(self):
        with connection.cursor() as cursor:
            before = connection.introspection.get_constraints(cursor, "monsters_monster")
        monsters_seed(count=3_000, seed=1, reset=True)
        with connection.cursor() as cursor:
            after = connection.introspection.get_constraints(cursor, "monsters_monster")
        assert after.keys() == before.keys()
        assert [name for name, info in after.items() if info["primary_key"]] == ["monsters_monster_pkey"]
        assert sorted(Monster.objects.values_list("pk", flat=True))[:3] == [1, 2, 3]

    def test_a_large_append_keeps_the_ids_and_carries_the_sequence_on(self):
        monsters_seed(count=100, seed=1, reset=True)  # ids 1 to 100
        Monster.objects.filter(pk__gt=90).delete()  # ids 91 to 100 are never given again
        monsters_seed(count=1_000, seed=2)  # more than the table holds: a staged load
        ids = sorted(Monster.objects.values_list("pk", flat=True))
        assert ids[:90] == list(range(1, 91))
        assert ids[90:] == list(range(101, 1_101))
        assert Monster.objects.create(**Monster.objects.values(*FIELDS).first()).pk == 1_101

    def test_the_swap_waits_for_a_long_read_then_gives_up_leaving_everything_as_it_was(self, monkeypatch):
        monsters_seed(count=200, seed=1)
        monkeypatch.setattr(loading, "SWAP_LOCK_TIMEOUT_MS", 50)
        monkeypatch.setattr(loading, "SWAP_WAIT_SECONDS", 1)
        reader = other_connection()
        reader.set_autocommit(False)
        try:
            count_from(reader, timeout_ms=1_000)  # an open transaction holding the table
            with pytest.raises(LoadBusy, match="stayed busy"):
                monsters_seed(count=1_000, seed=2, reset=True)
        finally:
            reader.rollback()
            reader.close()
        assert Monster.objects.count() == 200
        assert not table_exists("monsters_monster__load")

    def test_a_staging_table_left_by_a_killed_load_is_cleared_by_the_next(self):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE monsters_monster__load (LIKE monsters_monster)")
        monsters_seed(count=2_000, seed=1, reset=True)
        assert Monster.objects.count() == 2_000
        assert not table_exists("monsters_monster__load")


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        return name in connection.introspection.table_names(cursor)


FIELDS = ("name", "type", "level", "rarity", "damage", "health", "energy", "sanity")


@postgresql_only
@pytest.mark.django_db(transaction=True)
class TestOneLoadAtATime:
    def test_a_load_that_may_not_wait_is_refused_and_writes_nothing(self):
        holder = holding_the_load_lock()
        try:
            with pytest.raises(LoadBusy, match="Another load of the monsters is running"):
                monsters_seed(count=10, seed=1, wait=0)
        finally:
            holder.close()
        assert Monster.objects.count() == 0

    def test_two_large_appends_at_once_both_land(self):
        monsters_seed(count=100, seed=1)
        errors = []

        def append(seed: int) -> None:
            try:
                monsters_seed(count=3_000, seed=seed)
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=append, args=(seed,)) for seed in (2, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert Monster.objects.count() == 6_100
        assert Monster.objects.values("pk").distinct().count() == 6_100

    def test_the_seed_command_says_in_one_line_that_another_load_runs(self, monkeypatch):
        holder = holding_the_load_lock()
        monkeypatch.setattr(loading, "LOCK_POLL_SECONDS", 0.01)
        try:
            with pytest.raises(CommandError, match="Another load of the monsters is running"):
                call_command("seed", "--count", "10", "--wait", "0")
        finally:
            holder.close()

    def test_an_append_that_finds_the_data_changed_at_the_swap_writes_nothing(self, monkeypatch):
        monsters_seed(count=100, seed=1)
        analyse = loading._StagedLoad._analyse

        def someone_edits_meanwhile(self):
            analyse(self)
            data_version_bump()

        monkeypatch.setattr(loading._StagedLoad, "_analyse", someone_edits_meanwhile)
        with pytest.raises(LoadConflict):
            monsters_seed(count=1_000, seed=2)
        assert Monster.objects.count() == 100
        assert not table_exists("monsters_monster__load")
