"""Every chart's text alternative: a caption and its numbers (analytics.figure_text via as_dict)."""

import numpy as np
import pandas as pd
import pytest

from analytics import charts, figure_text
from analytics.fields import MONSTER_FIELDS
from analytics.stats import Axis, BoxStats, Counts
from monsters.generator import generate_monsters


@pytest.fixture(scope="module")
def monsters() -> pd.DataFrame:
    frame = generate_monsters(300, rng=np.random.default_rng(1))
    frame.insert(0, "id", np.arange(1, 301))
    return frame


def meta(figure) -> dict:
    return charts.as_dict(figure)["layout"]["meta"]


def test_a_scatter_caption_names_its_kind_title_axes_and_groups(monsters):
    caption = meta(charts.scatter_figure(monsters, x="level", y="health", color="rarity", total=300,
                                         estimated=False))["caption"]  # fmt: skip
    assert caption.startswith("Scatter chart: Health against Level, showing all 300 monsters.")
    assert "X axis: Level, Y axis: Health." in caption
    ranks = sorted(set(monsters["rarity"].astype(str)))
    assert f"{len(ranks)} groups of Rarity: {', '.join(ranks)}." in caption


def test_a_large_scatter_is_summed_up_per_group(monsters):
    table = meta(charts.chart(monsters, "level", "health", None))["table"]
    assert table["columns"] == ["Series", "Points", "Level lowest", "Level highest", "Level mean",
                                "Health lowest", "Health highest", "Health mean"]  # fmt: skip
    [row] = table["rows"]
    assert row[1] == 300
    assert row[2] == monsters["level"].min() and row[3] == monsters["level"].max()
    assert row[7] == pytest.approx(monsters["health"].mean(), rel=1e-3)


def test_a_small_scatter_lists_every_point(monsters):
    table = meta(charts.chart(monsters.head(5), "level", "health", None))["table"]
    assert table["columns"] == ["Level", "Health"]
    assert [row[0] for row in table["rows"]] == monsters["level"].head(5).tolist()


def test_a_histogram_table_has_a_row_per_bin_and_a_column_per_colour():
    axis = Axis("health", [0, 1, 2], [0.0, 10.0, 20.0, 30.0])
    counts = pd.DataFrame(
        {"x": [0, 1, 1, 2], "color": ["Rank 0", "Rank 0", "Rank 1", "Rank 1"], "count": [5, 3, 4, 2]}
    )
    table = meta(charts.histogram_figure(Counts(axis, Axis("rarity", ["Rank 0", "Rank 1"]), counts, 14)))[
        "table"
    ]
    assert table["columns"] == ["Health", "Rank 0", "Rank 1"]
    assert table["rows"] == [["0 to 10", 5, 0], ["10 to 20", 3, 4], ["20 to 30", 0, 2]]


def test_a_box_table_has_the_five_numbers_and_the_mean():
    stats = pd.DataFrame(
        {"x": ["Fey"], "count": [20], "mean": [6.0], "min": [2.0], "max": [12.0], "q1": [4.0],
         "median": [6.5], "q3": [8.25]}
    )  # fmt: skip
    table = meta(
        charts.box_figure(BoxStats(Axis("type", ["Fey"]), None, stats, sampled_from=None), y="health")
    )
    assert table["table"]["columns"] == ["Type", "Lowest", "Lower quartile", "Median", "Upper quartile",
                                         "Highest", "Mean"]  # fmt: skip
    assert table["table"]["rows"] == [["Fey", 2, 4, 6.5, 8.25, 12, 6]]
    assert table["caption"].startswith("Box plot: Health by Type")


def test_a_small_heat_map_is_a_matrix_and_a_large_one_its_fullest_cells():
    from ml.charts import confusion_figure

    small = meta(confusion_figure(["Rank 0", "Rank 1"], [[5, 1], [0, 7]]))["table"]
    assert small["columns"] == ["True \\ Predicted", "Rank 0", "Rank 1"]
    assert small["rows"] == [["Rank 0", 5, 1], ["Rank 1", 0, 7]]

    keys = list(range(30))
    axis = Axis("health", keys, [float(k) for k in range(31)])
    counts = pd.DataFrame({"x": [0, 5, 5], "y": [0, 5, 9], "count": [1, 9, 4]})
    large = meta(charts.density_figure(axis, axis, counts))["table"]
    assert large["columns"] == ["Health", "Health", "Value"]
    assert large["rows"] == [[5.5, 5.5, 9], [5.5, 9.5, 4], [0.5, 0.5, 1]]  # bin centres, fullest first


def test_a_long_table_keeps_its_first_rows_and_says_so():
    keys = list(range(300))
    counts = pd.DataFrame({"x": keys, "count": [1] * 300})
    figure = charts.histogram_figure(Counts(Axis("level", keys), None, counts, 300))
    table = meta(figure)["table"]
    assert len(table["rows"]) == figure_text.MAX_ROWS
    assert table["note"] == "The first 200 of 300 rows."


def test_a_chart_of_no_rows_says_so_in_words_and_on_the_plot(monsters):
    figure = charts.scatter_figure(
        monsters.head(0), x="level", y="health", color=None, total=0, estimated=False
    )
    assert not figure.data
    assert figure.layout.annotations[0].text == "No monsters match these filters."
    assert meta(figure)["caption"] == "Health against Level, 0 monsters. No monsters match these filters."
    empty = Counts(Axis("level", [1, 2]), None, pd.DataFrame({"x": [], "count": []}), 0)
    assert charts.histogram_figure(empty, MONSTER_FIELDS).layout.annotations[0].text.startswith("No monsters")


def test_text_from_the_data_stays_escaped_in_the_caption_and_table(monsters):
    frame = monsters.astype({"type": str})
    frame["type"] = "<b>Fey</b>"
    meta_data = meta(charts.chart(frame, "level", "health", "type"))
    table = meta(charts.chart(frame.head(3), "level", "health", "type"))["table"]
    assert "<b>" not in repr(meta_data) and "<b>" not in repr(table)
    assert figure_text.text("Health<br><sup>&lt;b&gt; 3 monsters</sup>") == "Health, &lt;b&gt; 3 monsters"
