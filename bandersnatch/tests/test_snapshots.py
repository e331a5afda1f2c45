"""Results computed after each data change and read by every process (bandersnatch/snapshots.py)."""

import pytest
from django.db import connection
from django.urls import reverse

from analytics import services as analytics_services
from bandersnatch import snapshots
from bandersnatch.models import Snapshot
from monsters import selectors
from monsters.models import DataVersion
from monsters.services import data_version_bump, monsters_seed

pytestmark = pytest.mark.django_db


def test_the_refresh_stores_every_precomputed_result_for_the_current_version(seeded_monsters):
    assert snapshots.snapshots_refresh() == []
    version = DataVersion.current()
    stored = f"{version}/{snapshots.FORMAT}"
    names = set(Snapshot.objects.filter(data_version=stored).values_list("name", flat=True))
    assert {"analytics:statistics", "analytics:figure:default", "monsters:counts-by-rarity",
            "monsters:similarity-scales"} <= names  # fmt: skip


def test_pages_read_the_stored_statistics_instead_of_computing_them(
    client, seeded_monsters, django_assert_max_num_queries
):
    snapshots.snapshots_refresh()
    with django_assert_max_num_queries(6) as queries:
        response = client.get(reverse("analytics:statistics"))
    assert response.status_code == 200
    assert response.context["profile"].rows == 1_000
    assert not any("GROUP BY" in query["sql"] for query in queries.captured_queries)


def test_a_change_is_seen_at_once_and_the_old_versions_are_forgotten(client, seeded_monsters):
    snapshots.snapshots_refresh()
    monsters_seed(count=10, seed=2)
    assert client.get(reverse("analytics:statistics")).context["profile"].rows == 1_010
    assert client.get(reverse("monsters:home")).context["counts"].total == 1_010
    for _ in range(3):
        data_version_bump()
        snapshots.snapshots_refresh()
    assert Snapshot.objects.filter(name="analytics:statistics").count() == snapshots.KEEP_VERSIONS


def test_a_value_computed_while_the_data_changed_is_not_stored(seeded_monsters):
    def compute_while_someone_edits():
        data_version_bump()
        return {"stale": True}

    assert snapshots.snapshot_compute("test:x", DataVersion.current, compute_while_someone_edits) == {
        "stale": True
    }
    assert not Snapshot.objects.filter(name="test:x").exists()


def test_a_value_stored_by_earlier_code_is_computed_again(seeded_monsters, monkeypatch):
    """After an upgrade that changes what a snapshot holds (FORMAT), no page serves the old shape."""
    assert snapshots.snapshot_compute("test:y", DataVersion.current, lambda: {"shape": 1}) == {"shape": 1}
    assert snapshots.snapshot_compute("test:y", DataVersion.current, lambda: {"shape": 9}) == {"shape": 1}
    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    assert snapshots.snapshot_compute("test:y", DataVersion.current, lambda: {"shape": 2}) == {"shape": 2}


def test_one_failing_precomputation_does_not_stop_the_others(seeded_monsters, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(snapshots._PRECOMPUTED, "test.broken", broken)
    assert snapshots.snapshots_refresh() == ["test.broken"]
    assert Snapshot.objects.filter(name="analytics:statistics").exists()


class TestLargeTables:
    """Above the inline limit no visitor waits: the last result, labelled, or an estimate."""

    def test_the_statistics_page_says_they_are_being_computed(self, client, seeded_monsters, monkeypatch):
        monkeypatch.setattr(analytics_services, "INLINE_MAX_ROWS", -1)
        response = client.get(reverse("analytics:statistics"))
        assert response.status_code == 200
        assert "are being computed" in response.content.decode()

    def test_the_statistics_page_shows_the_last_ones_labelled(self, client, seeded_monsters, monkeypatch):
        snapshots.snapshots_refresh()
        monsters_seed(count=10, seed=2)
        monkeypatch.setattr(analytics_services, "INLINE_MAX_ROWS", -1)
        response = client.get(reverse("analytics:statistics"))
        assert response.context["profile"].rows == 1_000
        assert "the monsters have changed since" in response.content.decode()

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
    def test_the_home_page_estimates_its_counts_meanwhile(self, client, seeded_monsters, monkeypatch):
        monkeypatch.setattr(selectors, "INLINE_MAX_ROWS", -1)
        counts = client.get(reverse("monsters:home")).context["counts"]
        assert counts.is_estimate
        assert [rarity for rarity, _ in counts.by_rarity] == [f"Rank {rank}" for rank in range(6)]
