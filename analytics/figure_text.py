"""What a figure shows, in words and in numbers: the text alternative of every chart.

Pure: a Plotly figure in, a caption and a small table out.  charts.as_dict
puts both in the figure's layout.meta, so every chart of every page carries
them, cached with the figure; static/js/charts.js gives the caption to screen
readers and shows the table on request ("The numbers").  Text from the data
stays escaped as every string of a figure is (charts.plain: &amp; &lt; &gt;);
the script unescapes it and writes it as text, never as markup.
"""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go

MAX_ROWS = 200  # a longer table says which rows it kept
MATRIX_MAX_COLUMNS = 12  # a wider heat map is listed cell by cell
KIND_NAMES = {
    "bar": "Bar chart",
    "box": "Box plot",
    "heatmap": "Heat map",
    "histogram2d": "Heat map",
}
BOX_STATS = ("x", "lowerfence", "q1", "median", "q3", "upperfence", "mean")
_TAGS = re.compile(r"<[^>]*>")


def text(markup) -> str:
    """Plotly's markup as plain words: "Title<br><sup>note</sup>" is "Title, note"."""
    if markup is None:
        return ""
    pieces = (" ".join(piece.split()) for piece in _TAGS.split(str(markup)))
    return ", ".join(piece for piece in pieces if piece)


def _number(value):
    """A cell: numbers to four significant digits, None for a gap, text as it is."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else float(f"{number:.4g}")


def _values(array) -> list:
    return [] if array is None else [_number(value) for value in np.asarray(array, dtype=object).ravel()]


def _kind(trace) -> str:
    if trace.type in ("scatter", "scattergl"):
        return (
            "Line chart"
            if "lines" in (trace.mode or "") and "markers" not in (trace.mode or "")
            else "Scatter chart"
        )
    return KIND_NAMES.get(trace.type, "Chart")


def _axis_title(figure: go.Figure, axis: str, default: str) -> str:
    return text(figure.layout[axis].title.text) or default


def _title(figure: go.Figure) -> str:
    """The title and its subtitle, as words."""
    title = figure.layout.title
    return ", ".join(part for part in (text(title.text), text(title.subtitle.text)) if part)


def caption(figure: go.Figure) -> str:
    """One sentence or three: the kind of chart, its title and note, its axes and groups."""
    if not figure.data:  # a note instead of a plot (charts._nothing_matches)
        notes = [text(note.text) for note in figure.layout.annotations]
        return " ".join([f"{_title(figure)}.", *notes]).strip(". ") + "."
    parts = [_kind(figure.data[0])]
    title = _title(figure)
    if title:
        parts[0] += f": {title}"
    x, y = _axis_title(figure, "xaxis", ""), _axis_title(figure, "yaxis", "")
    if x or y:
        parts.append(", ".join(f"{name} axis: {title}" for name, title in (("X", x), ("Y", y)) if title))
    names = [text(trace.name) for trace in figure.data if trace.name and trace.showlegend is not False]
    if len(names) > 1:
        legend = text(figure.layout.legend.title.text)
        parts.append(f"{len(names)} groups{f' of {legend}' if legend else ''}: {', '.join(names)}")
    return ". ".join(parts) + "."


def _bar_table(figure: go.Figure, x_title: str) -> dict:
    names = [text(trace.name) or _axis_title(figure, "yaxis", "Value") for trace in figure.data]
    rows: dict = {}
    for position, trace in enumerate(figure.data):
        width = trace.width if isinstance(trace.width, (int, float)) else None
        for x, y in zip(_values(trace.x), _values(trace.y), strict=False):
            key = f"{x - width / 2:g} to {x + width / 2:g}" if width and isinstance(x, (int, float)) else x
            rows.setdefault(key, [None] * len(names))[position] = y
    return {"columns": [x_title, *names], "rows": [[key, *values] for key, values in rows.items()]}


def _box_table(figure: go.Figure, x_title: str) -> dict:
    grouped = len(figure.data) > 1
    rows = []
    for trace in figure.data:
        stats = zip(*(_values(getattr(trace, name)) for name in BOX_STATS), strict=False)
        rows += [[text(trace.name), *row] if grouped else list(row) for row in stats]
    columns = [x_title, "Lowest", "Lower quartile", "Median", "Upper quartile", "Highest", "Mean"]
    return {"columns": ["Group", *columns] if grouped else columns, "rows": rows}


def _heatmap_table(figure: go.Figure, x_title: str, y_title: str) -> dict:
    trace = figure.data[0]
    z = np.asarray(trace.z, dtype=float)
    xs = _values(trace.x) if trace.x is not None else list(range(z.shape[1]))
    ys = _values(trace.y) if trace.y is not None else list(range(z.shape[0]))
    if len(xs) <= MATRIX_MAX_COLUMNS:
        return {
            "columns": [f"{y_title} \\ {x_title}", *xs],
            "rows": [[y, *_values(row)] for y, row in zip(ys, z, strict=False)],
        }
    cells = [(ys[i], xs[j], _number(z[i, j])) for i, j in zip(*np.nonzero(np.nan_to_num(z)), strict=True)]
    cells.sort(key=lambda cell: -cell[2])  # the fullest cells first
    return {"columns": [x_title, y_title, "Value"], "rows": [[x, y, value] for y, x, value in cells]}


def _summary(values) -> list:
    """The lowest, highest and mean of a trace's values, when they are numbers (in numpy: a
    scatter holds tens of thousands)."""
    try:
        numbers = np.asarray(values, dtype=float)
    except (TypeError, ValueError):  # categories or text
        return [None, None, None]
    if not np.isfinite(numbers).any():
        return [None, None, None]
    return [_number(np.nanmin(numbers)), _number(np.nanmax(numbers)), _number(np.nanmean(numbers))]


def _point_table(figure: go.Figure, x_title: str, y_title: str) -> dict:
    """Every point of a small chart; a line per series (its extremes and means) of a large one."""
    traces = [trace for trace in figure.data if trace.x is not None]
    if sum(len(trace.x) for trace in traces) <= MAX_ROWS:
        named = len(traces) > 1
        rows = [
            [text(trace.name), x, y] if named else [x, y]
            for trace in traces
            for x, y in zip(_values(trace.x), _values(trace.y), strict=False)
        ]
        return {"columns": ["Series", x_title, y_title] if named else [x_title, y_title], "rows": rows}
    labels = [f"{title} {what}" for title in (x_title, y_title) for what in ("lowest", "highest", "mean")]
    rows = [
        [text(trace.name) or "All", len(trace.x), *_summary(trace.x), *_summary(trace.y)] for trace in traces
    ]
    return {"columns": ["Series", "Points", *labels], "rows": rows}


def table(figure: go.Figure) -> dict:
    """The figure's numbers: {"columns", "rows"}, and a "note" when rows were left out."""
    if not figure.data:
        return {"columns": [], "rows": []}
    x_title, y_title = _axis_title(figure, "xaxis", "x"), _axis_title(figure, "yaxis", "y")
    kind = figure.data[0].type
    if kind == "bar":
        result = _bar_table(figure, x_title)
    elif kind == "box":
        result = _box_table(figure, x_title)
    elif kind in ("heatmap", "histogram2d"):
        result = _heatmap_table(figure, x_title, y_title)
    else:
        result = _point_table(figure, x_title, y_title)
    if len(result["rows"]) > MAX_ROWS:
        result["note"] = f"The first {MAX_ROWS:,} of {len(result['rows']):,} rows."
        result["rows"] = result["rows"][:MAX_ROWS]
    return result
