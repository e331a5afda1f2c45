import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import charts
from analytics.stats import Axis, BoxStats, ColumnProfile, Counts
from monsters.generator import generate_monsters


@pytest.fixture(scope="module")
def monsters() -> pd.DataFrame:
    frame = generate_monsters(300, rng=np.random.default_rng(1))
    frame.insert(0, "id", np.arange(1, 301))
    return frame


def test_chart_has_one_trace_per_target_value_with_every_field_in_the_hover(monsters):
    figure = charts.chart(monsters, "level", "health", "rarity")
    assert isinstance(figure, go.Figure)
    names = [trace.name for trace in figure.data]
    assert names == sorted(set(monsters["rarity"].astype(str)))
    assert sum(len(trace.x) for trace in figure.data) == len(monsters)
    first = figure.data[0]
    rows = monsters[monsters["rarity"] == first.name]
    assert first.text[0] == "#{} {}, {}, {}, {}".format(
        *rows.iloc[0][["id", "name", "type", "rarity", "damage"]]
    )
    for field in ("Level", "Health", "Energy", "Sanity"):
        assert f"{field}: %{{customdata" in first.hovertemplate
    assert first.customdata[0].tolist() == pytest.approx(
        rows.iloc[0][["level", "health", "energy", "sanity"]].astype(float).tolist(), rel=1e-6
    )
    assert figure.layout.xaxis.title.text == "Level" and figure.layout.yaxis.title.text == "Health"


def test_chart_uses_webgl_and_leaves_the_template_to_the_page(monsters):
    figure = charts.chart(monsters, "energy", "sanity", "type")
    assert all(trace.type == "scattergl" for trace in figure.data)
    assert "template" not in charts.as_dict(figure)["layout"]  # sent once per page instead
    assert figure.layout.dragmode == "select"


def _luminance(color: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_each_theme_has_a_template_with_its_own_background():
    templates = charts.templates_dict()
    assert set(templates) == {"dark", "light"}
    assert _luminance(templates["dark"]["layout"]["plot_bgcolor"]) < 0.02
    assert _luminance(templates["light"]["layout"]["plot_bgcolor"]) > 0.9
    for theme, template in templates.items():
        layout = template["layout"]
        assert _contrast(layout["font"]["color"], layout["paper_bgcolor"]) > 7, theme


def test_the_lowest_count_of_a_heat_map_stands_out_from_the_background():
    """A density cell of one monster was near-black on the dark theme (Inferno)."""
    for theme, template in charts.templates_dict().items():
        layout = template["layout"]
        low_end = layout["colorscale"]["sequential"][0][1]
        assert _contrast(low_end, layout["plot_bgcolor"]) >= 1.5, theme
        middle = dict(layout["colorscale"]["diverging"])[0.5]
        assert _contrast(middle, layout["plot_bgcolor"]) < 1.5, theme  # a zero correlation does not glare


def test_heat_maps_take_their_scale_from_the_theme():
    from ml.charts import confusion_figure

    x_axis = Axis("health", [0, 1], [0.0, 10.0, 20.0])
    table = pd.DataFrame({"x": [0], "y": [0], "count": [3]})
    matrix = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=["level", "health"], columns=["level", "health"])
    figures = [
        charts.density_figure(x_axis, x_axis, table),
        charts.correlation_figure(matrix),
        confusion_figure(["Rank 0", "Rank 1"], [[5, 1], [0, 7]]),
    ]
    for figure in figures:
        assert charts.as_dict(figure)["data"][0].get("colorscale") is None
    for template in charts.templates_dict().values():
        for trace in template["data"]["heatmap"]:
            assert "colorscale" not in trace and trace["autocolorscale"] is True


def _hue(color: str) -> float:
    import colorsys

    return colorsys.rgb_to_hsv(*(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)))[0] * 360


def test_neighbouring_ranks_have_colours_easy_to_tell_apart():
    """Rank 2 and Rank 3 were two blues; every rank's hue is now 40 degrees from the next one's,
    in the charts and in both themes of the site's style sheet."""
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
    ranks = sorted(re.findall(r"--rank-(\d): light-dark\((#\w{6}), (#\w{6})\)", css))
    css_light, css_dark = [light for _, light, _ in ranks], [dark for _, _, dark in ranks]
    for palette in (charts.RARITY_COLORS, css_light, css_dark):
        assert len(palette) == 6
        for one, other in zip(palette[1:], palette[2:], strict=False):  # rank 0 is grey
            distance = abs(_hue(one) - _hue(other))
            assert min(distance, 360 - distance) >= 40, (one, other)


def test_chart_coloured_by_a_number_is_one_trace_with_a_scale(monsters):
    figure = charts.chart(monsters, "health", "energy", "level")
    assert len(figure.data) == 1
    assert figure.data[0].marker.showscale and figure.data[0].marker.colorbar.title.text == "Level"
    assert not figure.layout.showlegend


def test_chart_with_a_category_axis_keeps_the_natural_order(monsters):
    figure = charts.chart(monsters, "rarity", "health", None)
    assert list(figure.layout.xaxis.categoryarray) == [f"Rank {k}" for k in range(6)]
    assert figure.data[0].x[0] in {f"Rank {k}" for k in range(6)}


def test_numbers_travel_as_typed_arrays(monsters):
    data = charts.as_dict(charts.chart(monsters, "level", "health", "rarity"))
    trace = data["data"][0]
    assert trace["x"]["dtype"] == "f4" and "bdata" in trace["x"]
    json.dumps(data)  # plain JSON all the way down


def test_scatter_figure_says_how_many_it_shows(monsters):
    sample = charts.scatter_figure(
        monsters, x="level", y="health", color="rarity", total=1_000_000, estimated=True
    )
    assert "showing 300 of about 1,000,000" in sample.layout.title.subtitle.text
    everything = charts.scatter_figure(
        monsters, x="level", y="health", color=None, total=300, estimated=False
    )
    assert "showing all 300 monsters" in everything.layout.title.subtitle.text


def test_histogram_figure_stacks_counts_per_colour():
    axis = Axis("health", [0, 1, 2], [0.0, 10.0, 20.0, 30.0])
    table = pd.DataFrame(
        {"x": [0, 1, 1, 2], "color": ["Rank 0", "Rank 0", "Rank 1", "Rank 1"], "count": [5, 3, 4, 2]}
    )
    figure = charts.histogram_figure(Counts(axis, Axis("rarity", ["Rank 0", "Rank 1"]), table, 14))
    assert [trace.name for trace in figure.data] == ["Rank 0", "Rank 1"]
    assert list(figure.data[0].y) == [5, 3, 0] and list(figure.data[1].y) == [0, 4, 2]
    assert list(figure.data[0].x) == [5.0, 15.0, 25.0]
    assert figure.layout.barmode == "stack"
    assert "14 monsters" in figure.layout.title.subtitle.text


def test_box_figure_draws_precomputed_quartiles():
    axis = Axis("type", ["Fey", "Undead"])
    table = pd.DataFrame(
        {"x": ["Undead", "Fey"], "count": [10, 20], "mean": [5.0, 6.0], "min": [1.0, 2.0], "max": [9.0, 12.0],
         "q1": [3.0, 4.0], "median": [5.0, 6.0], "q3": [7.0, 8.0]}
    )  # fmt: skip
    figure = charts.box_figure(BoxStats(axis, None, table, sampled_from=None), y="health")
    box = figure.data[0]
    assert list(box.x) == ["Fey", "Undead"]  # in the axis order
    assert list(box.q1) == [4.0, 3.0] and list(box.upperfence) == [12.0, 9.0]
    sampled = charts.box_figure(BoxStats(axis, None, table, sampled_from=100_000), y="health")
    assert "uniform sample of 100,000 rows" in sampled.layout.title.subtitle.text


def test_density_figure_puts_counts_on_the_grid():
    x_axis = Axis("health", [0, 1], [0.0, 10.0, 20.0])
    y_axis = Axis("rarity", ["Rank 0", "Rank 1"])
    table = pd.DataFrame({"x": [0, 1, 1], "y": ["Rank 0", "Rank 0", "Rank 1"], "count": [4, 6, 1]})
    heatmap = charts.density_figure(x_axis, y_axis, table).data[0]
    assert heatmap.z[0].tolist() == [4, 6]
    assert np.isnan(heatmap.z[1][0]) and heatmap.z[1][1] == 1
    assert list(heatmap.y) == ["Rank 0", "Rank 1"]


def test_statistics_figures():
    column = ColumnProfile("name", "text", 10, 0, 40, top=[(f"n{i}", 40 - i) for i in range(40)],
                           distribution=([f"n{i}" for i in range(40)], list(range(40))))  # fmt: skip
    bars = charts.distribution_figure(column, most=30).data[0]
    assert len(bars.x) == 30 and bars.x[0] == "n0"
    matrix = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["level", "health"], columns=["level", "health"])
    assert charts.correlation_figure(matrix).data[0].text[0][1] == "0.50"
    balance = charts.class_balance_figure([("Rank 0", 3), ("Rank 1", 1)]).data[0]
    assert list(balance.text) == ["75.0%", "25.0%"]


LINK = '<a href="https://example.com">x</a>'
LINK_AS_TEXT = '&lt;a href="https://example.com"&gt;x&lt;/a&gt;'  # Plotly shows the characters


def strings(data) -> list[str]:
    """Every string in a figure's data, however deep."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    return [text for item in data for text in strings(item)] if isinstance(data, list) else []


def test_a_name_reaches_every_figure_as_text_never_as_markup(monsters):
    frame = monsters.astype({"name": str})
    frame.loc[0, "name"] = LINK
    name_axis = Axis("name", sorted(frame["name"]))
    table = pd.DataFrame({"x": [LINK], "y": [LINK], "color": ["Rank 1"], "count": [1], "mean": [1.0],
                          "min": [1.0], "max": [1.0], "q1": [1.0], "median": [1.0], "q3": [1.0]})  # fmt: skip
    column = ColumnProfile("name", "text", 1, 0, 1, top=[(LINK, 1)], distribution=([LINK], [1]))
    figures = {
        "scatter": charts.chart(frame, "level", "health", "rarity"),
        "scatter of names": charts.chart(frame, "name", "health", "type"),
        "histogram": charts.histogram_figure(Counts(name_axis, Axis("rarity", ["Rank 1"]), table, 1)),
        "box": charts.box_figure(BoxStats(name_axis, None, table, sampled_from=None), y="health"),
        "density": charts.density_figure(name_axis, name_axis, table),
        "distribution": charts.distribution_figure(column),
    }
    for kind, figure in figures.items():
        texts = strings(charts.as_dict(figure))
        assert [text for text in texts if "<a" in text] == [], kind
        assert any(LINK_AS_TEXT in text for text in texts), kind
    hovers = [text for trace in figures["scatter"].data for text in trace.text]
    assert (
        "#1 " + ", ".join([LINK_AS_TEXT, *frame.loc[0, ["type", "rarity", "damage"]].astype(str)]) in hovers
    )


def test_plain_text_keeps_ampersands_readable():
    assert charts.plain("Salt & <Pepper>") == "Salt &amp; &lt;Pepper&gt;"
    assert charts.plain_series(pd.Series(["a<b", "c&d"])).tolist() == ["a&lt;b", "c&amp;d"]
