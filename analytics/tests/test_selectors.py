import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import selectors
from analytics.fields import MONSTER_FIELDS
from monsters.models import Monster
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db
POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL path")


@pytest.fixture
def monsters() -> pd.DataFrame:
    monsters_seed(count=400, seed=9)
    return pd.DataFrame.from_records(list(Monster.objects.values()))


def test_a_small_table_is_sampled_whole(monsters):
    sample = selectors.sample_rows(selectors.matching({}), MONSTER_FIELDS, size=1000)
    assert sample.is_complete
    assert sorted(sample.rows["id"]) == sorted(monsters["id"])
    assert list(sample.rows.columns) == [
        "id",
        "name",
        "type",
        "level",
        "rarity",
        "damage",
        "health",
        "energy",
        "sanity",
    ]


def test_a_large_table_is_sampled_uniformly_and_says_so(monsters):
    sample = selectors.sample_rows(selectors.matching({"type": "Fey"}), MONSTER_FIELDS, size=20)
    fey = monsters[monsters["type"] == "Fey"]
    assert len(sample.rows) <= 20 and not sample.is_complete
    assert set(sample.rows["id"]) <= set(fey["id"])
    assert sample.total.value == len(fey)


@POSTGRES
def test_postgresql_samples_with_tablesample_and_a_fixed_seed(monsters, monkeypatch):
    monkeypatch.setattr("analytics.pagination.EXACT_COUNT_LIMIT", 100)  # count is an estimate now
    first = selectors.sample_rows(selectors.matching({}), MONSTER_FIELDS, size=50)
    again = selectors.sample_rows(selectors.matching({}), MONSTER_FIELDS, size=50)
    assert first.total.is_estimate
    assert 20 <= len(first.rows) <= 50
    assert first.rows["id"].tolist() == again.rows["id"].tolist()  # stable until the data change
    assert selectors.sample_rows(
        selectors.matching({"q": "no such name"}), MONSTER_FIELDS, size=50
    ).rows.empty


def test_histogram_counts_add_up_per_bin_and_colour(monsters):
    counts = selectors.histogram_counts(selectors.matching({}), MONSTER_FIELDS, x="health", color="rarity")
    assert counts.total == len(monsters)
    edges = counts.axis.edges
    bins = np.minimum(np.floor((monsters["health"] - edges[0]) / (edges[1] - edges[0])), len(edges) - 2)
    expected = monsters.assign(x=bins.astype(int)).groupby(["x", "rarity"]).size()
    got = counts.table.set_index(["x", "color"])["count"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()


def test_histogram_of_a_category_and_of_level(monsters):
    by_type = selectors.histogram_counts(selectors.matching({"level_max": 5}), MONSTER_FIELDS, x="type")
    expected = monsters[monsters["level"] <= 5]["type"].value_counts()
    assert by_type.table.set_index("x")["count"].to_dict() == expected.to_dict()
    assert by_type.axis.keys == ["Demonic", "Devilkin", "Dragon", "Elemental", "Fey", "Undead"]
    by_level = selectors.histogram_counts(selectors.matching({}), MONSTER_FIELDS, x="level")
    assert by_level.table.set_index("x")["count"].to_dict() == monsters["level"].value_counts().to_dict()


def test_density_counts_the_grid(monsters):
    x_axis, y_axis, table, sampled = selectors.density_counts(
        selectors.matching({}), MONSTER_FIELDS, x="health", y="rarity"
    )
    assert sampled is None
    assert table["count"].sum() == len(monsters)
    assert y_axis.keys == [f"Rank {k}" for k in range(6)]
    assert set(table["x"]) <= set(x_axis.keys)


def test_box_stats_match_pandas_quartiles(monsters):
    stats = selectors.box_stats(selectors.matching({}), MONSTER_FIELDS, y="sanity", x="type", color="rarity")
    assert stats.sampled_from is None
    got = stats.table.set_index(["x", "color"]).sort_index()
    grouped = monsters.groupby(["type", "rarity"])["sanity"]
    expected = grouped.quantile([0.25, 0.5, 0.75]).unstack().sort_index()
    assert got["q1"].to_numpy() == pytest.approx(expected[0.25].to_numpy())
    assert got["median"].to_numpy() == pytest.approx(expected[0.5].to_numpy())
    assert got["q3"].to_numpy() == pytest.approx(expected[0.75].to_numpy())
    assert got["count"].to_numpy().tolist() == grouped.size().sort_index().tolist()
    assert got["max"].to_numpy() == pytest.approx(grouped.max().sort_index().to_numpy())


def test_box_of_a_continuous_x_groups_it_in_bins(monsters):
    stats = selectors.box_stats(selectors.matching({}), MONSTER_FIELDS, y="energy", x="health")
    assert stats.axis.is_binned
    assert stats.table["count"].sum() == len(monsters)


@POSTGRES
def test_box_quartiles_of_many_rows_come_from_a_sample(monsters, monkeypatch):
    monkeypatch.setattr(selectors, "EXACT_QUARTILE_ROWS", 100)
    stats = selectors.box_stats(selectors.matching({}), MONSTER_FIELDS, y="health", x="rarity")
    assert stats.sampled_from == 100
    assert stats.table["count"].sum() == len(monsters)  # counts stay exact
    assert stats.table["q1"].notna().any()


def test_box_needs_a_numeric_y():
    with pytest.raises(ValueError, match="numeric y"):
        selectors.box_stats(selectors.matching({}), MONSTER_FIELDS, y="name", x="type")


def test_unknown_fields_never_reach_sql():
    with pytest.raises(ValueError, match="Unknown field"):
        selectors.histogram_counts(
            selectors.matching({}), MONSTER_FIELDS, x="health; DROP TABLE monsters_monster"
        )
    with pytest.raises(ValueError, match="Unknown field"):
        selectors.sample_rows(selectors.matching({}), MONSTER_FIELDS, size=5, columns=("id", "password"))


def monster_profile():
    from analytics.profile import profile_compute
    from monsters.columns import MONSTER_COLUMNS

    return profile_compute(Monster.objects.all(), MONSTER_COLUMNS, Monster._meta.db_table)


def test_the_monster_profile_matches_pandas_describe(monsters):
    """The monsters are profiled by the same code as every dataset (analytics.profile)."""
    profile = monster_profile()
    assert profile.rows == len(monsters) and profile.sampled_from is None  # a small table: every row
    columns = {column.name: column for column in profile.columns}
    assert list(columns) == [
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
    for field in ("level", "health", "energy", "sanity"):
        described = monsters[field].describe()
        column = columns[field]
        assert column.count == described["count"] and column.nulls == 0
        assert column.mean == pytest.approx(described["mean"])
        assert column.std == pytest.approx(described["std"])
        assert column.quartiles == pytest.approx([described["25%"], described["50%"], described["75%"]])
        assert (column.minimum, column.maximum) == pytest.approx((described["min"], described["max"]))
    assert columns["type"].distinct == monsters["type"].nunique()
    assert columns["name"].top[0][1] == monsters["name"].value_counts().iloc[0]
    expected_corr = monsters[["level", "health", "energy", "sanity"]].corr()
    assert profile.correlation.to_numpy() == pytest.approx(expected_corr.to_numpy())
    assert columns["health"].distinct == monsters["health"].nunique()


def test_the_statistics_page_adds_the_exact_class_balance(monsters):
    from analytics.services import statistics

    result = statistics()
    assert dict(result.profile.class_balance) == monsters["rarity"].value_counts().to_dict()
    assert [rarity for rarity, _ in result.profile.class_balance] == list(
        MONSTER_FIELDS.category_order["rarity"]
    )
    assert {"figure-balance", "figure-correlation", "figure-column-health"} <= set(result.figures)


def test_profile_of_an_empty_table():
    profile = monster_profile()
    assert profile.rows == 0 and profile.columns == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TABLESAMPLE of PostgreSQL")
@pytest.mark.django_db
def test_charts_of_a_huge_table_come_from_a_block_sample_scaled_and_labelled(monkeypatch):
    from analytics import charts
    from monsters.services import monsters_seed

    monsters_seed(count=30_000, seed=3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    monkeypatch.setattr(selectors, "CHART_EXACT_ROWS", 10_000)
    monkeypatch.setattr(selectors, "CHART_SAMPLE_ROWS", 10_000)
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.histogram_counts(
            selectors.matching({}), MONSTER_FIELDS, x="health", color="rarity"
        )
    extremes = [q["sql"] for q in queries.captured_queries if "min(" in q["sql"].lower()]
    assert extremes and all("TABLESAMPLE SYSTEM" in sql for sql in extremes)  # the axis from the sample too
    assert counts.sampled_percent == pytest.approx(100 * 10_000 / 30_000, rel=0.2)
    assert counts.total == pytest.approx(30_000, rel=0.2)
    assert (
        "estimated from a"
        in charts.as_dict(charts.histogram_figure(counts))["layout"]["title"]["subtitle"]["text"]
    )
    names = selectors.histogram_counts(selectors.matching({}), MONSTER_FIELDS, x="name")
    per_name = names.table.groupby("x")["count"].sum()  # a text axis: its most common values in the sample
    assert len(names.axis.keys) == selectors.TEXT_AXIS_VALUES < len(per_name)
    assert per_name[names.axis.keys].min() >= per_name.drop(names.axis.keys).max()
    *_, sampled = selectors.density_counts(selectors.matching({}), MONSTER_FIELDS, x="health", y="level")
    assert sampled is not None
    box = selectors.box_stats(selectors.matching({}), MONSTER_FIELDS, y="health", x="type")
    assert box.sampled_percent is not None and set(box.table["x"]) <= set(box.axis.keys)
    few = selectors.histogram_counts(
        selectors.matching({"rarity": "Rank 5"}), MONSTER_FIELDS, x="health"
    )  # under the limit: exact
    assert few.sampled_percent is None


@POSTGRES
def test_a_filtered_charts_extremes_never_walk_the_fields_own_index(monsters):
    """The highest sanity among high levels: a walk of the sanity index would pass most of the table."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    queryset = selectors.matching({"level_min": 15})
    with CaptureQueriesContext(connection) as queries:
        axis, _ = selectors.axis_for(queryset, MONSTER_FIELDS, "sanity", bins=10)
    sql = next(q["sql"] for q in queries.captured_queries if "MIN(" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # leave the planner only indexes to choose from
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "monster_sanity_id" not in plan
    high = Monster.objects.filter(level__gte=15)
    assert axis.edges[0] <= min(high.values_list("sanity", flat=True))
    assert axis.edges[-1] >= max(high.values_list("sanity", flat=True))


@POSTGRES
def test_a_large_table_is_sampled_by_pages(monkeypatch):
    monsters_seed(count=20_000, seed=9)  # a few hundred pages to draw from
    monkeypatch.setattr("analytics.pagination.EXACT_COUNT_LIMIT", 100)
    for threshold, method in [(1_000_000, "BERNOULLI"), (100, "SYSTEM")]:
        monkeypatch.setattr(selectors, "BLOCK_SAMPLE_TABLE_ROWS", threshold)
        with CaptureQueriesContext(connection) as queries:
            sample = selectors.sample_rows(selectors.matching({}), MONSTER_FIELDS, size=500)
        assert any(f"TABLESAMPLE {method}" in q["sql"] for q in queries.captured_queries)
        assert 300 < len(sample.rows) <= 500


@POSTGRES
def test_a_sampled_chart_reads_a_bounded_share_of_the_table_and_its_quartiles_come_from_it(monkeypatch):
    monsters_seed(count=20_000, seed=9)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    monkeypatch.setattr("analytics.pagination.EXACT_COUNT_LIMIT", 100)
    monkeypatch.setattr(selectors, "CHART_EXACT_ROWS", 1_000)
    monkeypatch.setattr(selectors, "CHART_SAMPLE_ROWS", 10_000)
    monkeypatch.setattr(selectors, "CHART_READ_ROWS", 2_000)  # a tenth of the table
    queryset = selectors.matching({"type": "Fey"})
    assert selectors.chart_sample_percent(queryset) == pytest.approx(10.0, rel=0.05)
    with CaptureQueriesContext(connection) as queries:
        box = selectors.box_stats(selectors.matching({"type": "Fey"}), MONSTER_FIELDS, y="energy", x="rarity")
    quartiles = next(q["sql"] for q in queries.captured_queries if "percentile_cont" in q["sql"])
    assert f"TABLESAMPLE SYSTEM ({box.sampled_percent:.6f})" in quartiles
    assert box.sampled_from == pytest.approx(box.table["count"].sum() * box.sampled_percent / 100, rel=0.01)


@POSTGRES
def test_a_scatter_of_a_few_per_cent_of_a_large_table_reads_a_bounded_share_of_it(monkeypatch):
    """SCATTER_READ_ROWS bounds the sample's share of the table: fewer points, not half the pages read."""
    monsters_seed(count=3_000, seed=8)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monsters_monster")
    monkeypatch.setattr(selectors, "SCATTER_READ_ROWS", 600)  # a fifth of this table
    fey = selectors.matching({"type": "Fey"})
    sample = selectors.sample_rows(fey, MONSTER_FIELDS, size=400)
    assert sample.total.value == fey.count() > 400
    assert 0.1 * sample.total.value <= len(sample.rows) <= 0.3 * sample.total.value  # about a fifth of them
    assert set(sample.rows["type"]) == {"Fey"}


def test_a_filtered_density_reads_both_axes_extremes_in_one_query(monsters):
    with CaptureQueriesContext(connection) as queries:
        x_axis, y_axis, table, _ = selectors.density_counts(
            selectors.matching({"type": "Fey"}), MONSTER_FIELDS, x="health", y="sanity"
        )
    extremes = [q["sql"] for q in queries.captured_queries if "MIN(COALESCE" in q["sql"].upper()]
    assert len(extremes) == 1  # (SQLite writes the bins' LEAST as MIN too: not counted)
    fey = monsters[monsters["type"] == "Fey"]
    assert x_axis.edges[0] <= fey["health"].min() and x_axis.edges[-1] >= fey["health"].max()
    assert y_axis.edges[0] <= fey["sanity"].min() and y_axis.edges[-1] >= fey["sanity"].max()
    assert table["count"].sum() == len(fey)
