"""Plotly figures from data: DataFrames and aggregates in, figures out.

No ORM and no request here, so every builder is tested on plain frames.
Pages embed `as_dict(figure)` with json_script; numeric arrays travel as
compact typed arrays (float32 is exact enough for two decimals).

Plotly renders a subset of HTML (<a href>, <b>, <br>, <span>...) in hover
text, tick labels, legend entries and titles, so every value from the data
(a monster's name, any category) reaches a figure through plain() or
plain_series(): & < > become entities, which Plotly shows as the characters.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from . import figure_text
from .fields import MONSTER_FIELDS, ChartFields
from .stats import Axis, BoxStats, ColumnProfile, Counts

# Trace colours read on both themes' backgrounds, so a figure is the same data in
# either; ranks as static/css/site.css names them: grey, green, blue, purple, red, gold.
RARITY_COLORS = ["#8a93a8", "#4caf50", "#3b8beb", "#a461f0", "#e5486e", "#d9a21b"]
COLORWAY = ["#3b8beb", "#d9a21b", "#4caf50", "#e5486e", "#a461f0", "#1fb5c9", "#f08a3c", "#2bb39a"]

# Each theme's page colours (site.css's light-dark() pairs) and colour scales.  Heat maps
# and numbers as colours name no scale of their own: the template has Plotly take its
# sequential scale for counts and its diverging one for a range across zero.  A scale's low end
# stands out from the plot's background (a cell of one row is not lost in it).
THEMES = {
    "dark": {
        "base": "plotly_dark",
        "background": "#0f1117", "surface": "#171a23", "grid": "#2c3142", "text": "#e6e8ef",
        "sequential": [[0, "#3e4a89"], [0.3, "#2a788e"], [0.6, "#43bf71"], [1, "#fde725"]],
        "diverging": [[0, "#4f8ff7"], [0.5, "#2c3142"], [1, "#f7768e"]],
    },
    "light": {
        "base": "plotly_white",
        "background": "#ffffff", "surface": "#ffffff", "grid": "#e1e4ec", "text": "#1c2030",
        "sequential": [[0, "#9cc3e6"], [0.35, "#5a9fd4"], [0.7, "#2171b5"], [1, "#08306b"]],
        "diverging": [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]],
    },
}  # fmt: skip


def _template(theme: dict) -> go.layout.Template:
    template = go.layout.Template(pio.templates[theme["base"]])
    template.layout.update(
        paper_bgcolor=theme["surface"],
        plot_bgcolor=theme["background"],
        colorway=COLORWAY,
        colorscale={"sequential": theme["sequential"], "diverging": theme["diverging"]},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "color": theme["text"]},
        xaxis={"gridcolor": theme["grid"], "zerolinecolor": theme["grid"]},
        yaxis={"gridcolor": theme["grid"], "zerolinecolor": theme["grid"]},
        legend={"bgcolor": "rgba(0,0,0,0)"},
        margin={"l": 60, "r": 20, "t": 60, "b": 60},
        hoverlabel={
            "bgcolor": theme["surface"],
            "bordercolor": theme["grid"],
            "font": {"color": theme["text"]},
        },
    )
    # The base templates give each trace kind a scale of its own: the theme's instead
    # (autocolorscale: the sequential scale for counts, the diverging one across zero).
    for kind in ("heatmap", "histogram2d"):
        for trace in template.data[kind]:
            trace.colorscale, trace.autocolorscale = None, True
    for kind in ("scatter", "scattergl"):
        for trace in template.data[kind]:
            trace.marker.autocolorscale = True
    return template


TEMPLATES = {name: _template(theme) for name, theme in THEMES.items()}
# Figures carry no template: every page sends both once (see templatetags/charts.py)
# and static/js/charts.js applies the one of the page's theme to each figure.  Inside
# every figure a template would weigh 8 KB and cost 2 ms to build.
pio.templates.default = "none"


def templates_dict() -> dict:
    """Each theme's Plotly template as plain JSON data, for the pages' scripts."""
    return {
        name: json.loads(json.dumps(template.to_plotly_json(), cls=PlotlyJSONEncoder))
        for name, template in TEMPLATES.items()
    }


def as_dict(figure: go.Figure) -> dict:
    """The figure as plain JSON data, for json_script (no HTML, no mark_safe).

    Without a template: the page supplies the site's (templates_dict()).  With
    its text alternative in layout.meta (figure_text): a caption and the numbers.
    """
    data = json.loads(figure.to_json())
    data["layout"].pop("template", None)
    data["layout"]["meta"] = {"caption": figure_text.caption(figure), "table": figure_text.table(figure)}
    return data


def plain(value) -> str:
    """A data value as text Plotly shows as it is, never as markup."""
    return html.escape(str(value), quote=False)


def plain_series(values: pd.Series) -> pd.Series:
    """plain() for a whole column at once."""
    text = values.astype(str)
    return text.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")


def _layout(figure: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    # A subtitle of its own, not "<sup>" markup: plotly.js draws that with a style attribute,
    # which the Content-Security-Policy refuses.
    figure.update_layout(
        title={"text": title, "subtitle": {"text": subtitle} if subtitle else None, "x": 0.01}
    )
    return figure


def _nothing_matches(title: str, fields: ChartFields) -> go.Figure:
    """A chart of no rows: says so where the plot would be, instead of drawing empty axes."""
    figure = go.Figure()
    figure.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {"text": f"No {fields.noun} match these filters.", "showarrow": False, "font": {"size": 16},
             "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5},
        ],
    )  # fmt: skip
    return _layout(figure, title, f"0 {fields.noun}")


def _groups(frame: pd.DataFrame, column: str | None, fields: ChartFields, field: str | None = None):
    """(name, rows, colour) per group of `column` (holding values of `field`) in a stable order.

    The name is plain(); one group when uncoloured.  A group's colour follows
    its value's place in the field's own order, so it stays the same whatever
    the filters leave out; a ranked field takes the rank colours.
    """
    if not column:
        return [("", frame, COLORWAY[0])]
    field = field or column
    order = list(fields.category_order.get(field) or sorted(frame[column].dropna().unique()))
    palette = RARITY_COLORS if field in fields.ranked else COLORWAY
    return [
        (plain(value), frame[frame[column] == value], palette[position % len(palette)])
        for position, value in enumerate(order)
        if (frame[column] == value).any()
    ]


def _values(series: pd.Series, fields: ChartFields):
    """Numbers as float32 typed arrays, anything else as plain strings."""
    if series.name in fields.numeric:
        return series.to_numpy(dtype=np.float32)
    return plain_series(series).tolist()


def chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    target: str | None = None,
    *,
    fields: ChartFields = MONSTER_FIELDS,
    subtitle: str = "",
) -> go.Figure:
    """Scatter of `x` against `y` coloured by `target`, every column in the hover.

    The original app's chart(df, x, y, target).  WebGL draws tens of thousands
    of points; a click on one opens its page (see static/js/charts.js).  A
    categorical target gives a legend entry per value, a numeric one a scale.
    """
    hover_numbers = [field for field in fields.numeric if field in df]
    hovertemplate = (
        "%{text}<br>"
        + "<br>".join(
            f"{fields.label(field)}: %{{customdata[{i}]{'' if field in fields.discrete else ':.2f'}}}"
            for i, field in enumerate(hover_numbers)
        )
        + "<extra></extra>"
    )
    by_group = target is not None and target not in fields.numeric
    figure = go.Figure()
    for name, rows, color in _groups(df, target if by_group else None, fields):
        marker = {"size": 5, "opacity": 0.75, "color": color}
        if target and not by_group:
            marker.update(
                color=rows[target].to_numpy(dtype=np.float32),  # on the theme's scale
                showscale=True,
                colorbar={"title": {"text": fields.label(target)}},
            )
        figure.add_trace(
            go.Scattergl(
                x=_values(rows[x], fields),
                y=_values(rows[y], fields),
                mode="markers",
                name=name or fields.noun,
                marker=marker,
                text=hover_texts(rows, fields),
                customdata=rows[hover_numbers].to_numpy(dtype=np.float32),
                hovertemplate=hovertemplate,
            )
        )
    figure.update_layout(
        xaxis_title=fields.label(x),
        yaxis_title=fields.label(y),
        legend_title_text=fields.label(target) if by_group else None,
        showlegend=by_group,
        dragmode="select",
        **_category_axes(fields, x, y),
    )
    return _layout(figure, f"{fields.label(y)} against {fields.label(x)}", subtitle)


HOVER_TEXT_FIELDS = 4  # the first this many non-numeric fields name a point


def hover_texts(rows: pd.DataFrame, fields: ChartFields = MONSTER_FIELDS) -> list[str]:
    """'#id name, type, rarity, damage' per row (ASCII, to keep pages compact), plain.

    The table's first HOVER_TEXT_FIELDS non-numeric fields, in column order.
    """
    named = [field for field in fields.hover if field not in fields.numeric][:HOVER_TEXT_FIELDS]
    parts = [plain_series(rows[field]) for field in named if field in rows]
    if not parts:
        return [""] * len(rows)
    text = parts[0]
    for part in parts[1:]:
        text = text + ", " + part
    if "id" in rows:
        text = "#" + rows["id"].astype(str) + " " + text
    return text.tolist()


def _category_axes(fields: ChartFields, x: str, y: str | None = None) -> dict:
    """Keep categories (Rarity, Type) in their own order on an axis."""
    layout = {}
    for axis, field in (("xaxis", x), ("yaxis", y)):
        if field in fields.category_order:
            layout[axis] = {
                "categoryorder": "array",
                "categoryarray": [plain(v) for v in fields.category_order[field]],
            }
    return layout


def scatter_figure(
    sample: pd.DataFrame,
    *,
    x: str,
    y: str,
    color: str | None,
    total: int,
    estimated: bool,
    fields: ChartFields = MONSTER_FIELDS,
) -> go.Figure:
    shown = len(sample)
    if not shown:
        return _nothing_matches(f"{fields.label(y)} against {fields.label(x)}", fields)
    of = f"about {total:,}" if estimated else f"{total:,}"
    subtitle = (
        f"showing all {shown:,} {fields.noun}"
        if shown >= total and not estimated
        else f"showing {shown:,} of {of} (uniform random sample)"
    )
    return chart(sample, x, y, color, fields=fields, subtitle=subtitle)


def _top_note(axis: Axis, fields: ChartFields) -> str:
    """Says so when a text axis shows only its most common values."""
    if axis.is_binned or axis.field in fields.numeric or axis.field in fields.category_order:
        return ""
    return f"; the {len(axis.keys)} most common values of {fields.label(axis.field)}"


def histogram_figure(counts: Counts, fields: ChartFields = MONSTER_FIELDS) -> go.Figure:
    axis, color = counts.axis, counts.color
    if not counts.total:
        return _nothing_matches(f"Distribution of {fields.label(axis.field)}", fields)
    figure = go.Figure()
    table = counts.table
    labels = [plain(label) for label in axis.labels]
    noun = fields.noun
    for name, rows, bar_color in _groups(table, "color" if color else None, fields, color and color.field):
        by_key = dict(zip(rows["x"], rows["count"], strict=True))
        figure.add_trace(
            go.Bar(
                x=axis.positions if axis.is_binned else labels,
                y=[int(by_key.get(key, 0)) for key in axis.keys],
                width=axis.width,
                name=name or noun,
                marker_color=bar_color,
                customdata=labels,
                hovertemplate=f"%{{customdata}}: %{{y:,}} {noun}<extra>%{{fullData.name}}</extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        bargap=0.02 if axis.is_binned else 0.2,
        xaxis_title=fields.label(axis.field),
        yaxis_title=noun.capitalize(),
        legend_title_text=fields.label(color.field) if color else None,
        showlegend=bool(color),
        **_category_axes(fields, axis.field),
    )
    how = _how_many(counts.total, counts.sampled_percent, noun) + _top_note(axis, fields)
    return _layout(figure, f"Distribution of {fields.label(axis.field)}", how)


def _how_many(total: int, sampled_percent: float | None, noun: str = "monsters") -> str:
    """A chart's count of rows, saying when it is an estimate from a sample of the table."""
    if sampled_percent is None:
        return f"{total:,} {noun}"
    return f"about {total:,} {noun}, estimated from a {sampled_percent:.2g}% sample of the table"


def box_figure(stats: BoxStats, *, y: str, fields: ChartFields = MONSTER_FIELDS) -> go.Figure:
    axis, color = stats.axis, stats.color
    if stats.table.empty:
        return _nothing_matches(f"{fields.label(y)} by {fields.label(axis.field)}", fields)
    figure = go.Figure()
    labels = dict(zip(axis.keys, map(plain, axis.labels), strict=True))
    for name, rows, box_color in _groups(
        stats.table, "color" if color else None, fields, color and color.field
    ):
        rows = rows.set_index("x").reindex([key for key in axis.keys if key in set(rows["x"])])
        figure.add_trace(
            go.Box(
                x=[labels[key] for key in rows.index],
                q1=rows["q1"].tolist(),
                median=rows["median"].tolist(),
                q3=rows["q3"].tolist(),
                lowerfence=rows["min"].tolist(),
                upperfence=rows["max"].tolist(),
                mean=rows["mean"].tolist(),
                name=name or fields.label(y),
                marker_color=box_color,
                boxpoints=False,
            )
        )
    total = int(stats.table["count"].sum())
    if stats.sampled_percent:
        how = _how_many(total, stats.sampled_percent, fields.noun)
    elif stats.sampled_from:
        how = f"quartiles from a uniform sample of {stats.sampled_from:,} rows; counts, means, extremes exact"
    else:
        how = f"{total:,} {fields.noun}"
    figure.update_layout(
        boxmode="group" if color else "overlay",
        xaxis_title=fields.label(axis.field),
        yaxis_title=fields.label(y),
        legend_title_text=fields.label(color.field) if color else None,
        showlegend=bool(color),
        xaxis={"type": "category", **_category_axes(fields, axis.field).get("xaxis", {})},
    )
    return _layout(figure, f"{fields.label(y)} by {fields.label(axis.field)}", how + _top_note(axis, fields))


def density_figure(
    x_axis: Axis,
    y_axis: Axis,
    table: pd.DataFrame,
    sampled_percent: float | None = None,
    fields: ChartFields = MONSTER_FIELDS,
) -> go.Figure:
    """A 2-D histogram as a heat map: rows per cell of the x by y grid."""
    grid = np.zeros((len(y_axis.keys), len(x_axis.keys)), dtype=np.int64)
    x_index = {key: i for i, key in enumerate(x_axis.keys)}
    y_index = {key: i for i, key in enumerate(y_axis.keys)}
    for x_key, y_key, count in table[["x", "y", "count"]].itertuples(index=False):
        if x_key in x_index and y_key in y_index:
            grid[y_index[y_key], x_index[x_key]] += count
    title = f"Density of {fields.label(y_axis.field)} against {fields.label(x_axis.field)}"
    if not grid.any():
        return _nothing_matches(title, fields)
    figure = go.Figure(
        go.Heatmap(
            x=x_axis.positions if x_axis.is_binned else [plain(label) for label in x_axis.labels],
            y=y_axis.positions if y_axis.is_binned else [plain(label) for label in y_axis.labels],
            z=np.where(grid > 0, grid, np.nan),  # empty cells stay background
            colorbar={"title": {"text": fields.noun.capitalize()}},
            hovertemplate=(
                f"{fields.label(x_axis.field)}: %{{x}}<br>{fields.label(y_axis.field)}: %{{y}}"
                f"<br>%{{z:,}} {fields.noun}<extra></extra>"
            ),
        )
    )
    figure.update_layout(xaxis_title=fields.label(x_axis.field), yaxis_title=fields.label(y_axis.field))
    return _layout(
        figure,
        title,
        _how_many(int(grid.sum()), sampled_percent, fields.noun)
        + _top_note(x_axis, fields)
        + _top_note(y_axis, fields),
    )


def distribution_figure(
    column: ColumnProfile, *, most: int = 30, fields: ChartFields = MONSTER_FIELDS
) -> go.Figure:
    """A small bar chart of one column: its bins, its values, or its most common values."""
    labels, counts = column.distribution
    binned = len(labels) == len(counts) + 1  # bin edges, not values
    if binned:
        edges = labels
        x = [(low + high) / 2 for low, high in zip(edges, edges[1:], strict=False)]
        bar = go.Bar(x=x, y=counts, width=edges[1] - edges[0], hovertemplate="%{x}: %{y:,}<extra></extra>")
    else:
        if len(labels) > most:  # many values: the most common ones
            labels, counts = [v for v, _ in column.top[:most]], [n for _, n in column.top[:most]]
        bar = go.Bar(
            x=[plain(label) for label in labels], y=counts, hovertemplate="%{x}: %{y:,}<extra></extra>"
        )
    figure = go.Figure(bar)
    figure.update_traces(marker_color=COLORWAY[0])
    figure.update_layout(
        height=220,
        margin={"l": 40, "r": 10, "t": 10, "b": 40},
        bargap=0.02 if binned else 0.15,
        xaxis={"type": "category", **_category_axes(fields, column.name).get("xaxis", {})}
        if not binned
        else {},
    )
    return figure


def correlation_figure(matrix: pd.DataFrame, fields: ChartFields = MONSTER_FIELDS) -> go.Figure:
    names = [fields.label(field) for field in matrix.columns]
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=names,
            y=names,
            zmin=-1,
            zmax=1,
            text=[[f"{value:.2f}" for value in row] for row in matrix.to_numpy()],
            texttemplate="%{text}",
            hovertemplate="%{y} and %{x}: %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(yaxis={"autorange": "reversed"}, height=380)
    return _layout(figure, "Correlation of the numeric columns", "Pearson's r")


def class_balance_figure(balance: list[tuple[str, int]]) -> go.Figure:
    total = sum(count for _, count in balance) or 1
    figure = go.Figure(
        go.Bar(
            x=[plain(name) for name, _ in balance],
            y=[count for _, count in balance],
            marker_color=RARITY_COLORS[: len(balance)],
            text=[f"{count / total:.1%}" for _, count in balance],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} monsters (%{text})<extra></extra>",
        )
    )
    figure.update_layout(height=380, yaxis_title="Monsters", showlegend=False)
    return _layout(figure, "Rarity class balance", f"{total:,} monsters")
