"""Which columns of a table the charts can use, and how each is treated.

Read off the table's column description (bandersnatch.columns), so the
monsters and every uploaded dataset are charted by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from bandersnatch.columns import ROW_ID, Column
from monsters.columns import MONSTER_COLUMNS

KINDS = ("scatter", "histogram", "box", "density")
# A category's values keep their own order (its choices) on an axis up to this many.
ORDERED_MAX_CHOICES = 50
# A colour needs a legend a person can read: at most this many groups.
COLOR_MAX_GROUPS = 12
# An integer column with known bounds spanning at most this many values can colour a chart.
COLOR_MAX_VALUES = 20
# An integer column spanning at most this many values gets a bar per value; a wider one is binned.
DISCRETE_MAX_VALUES = 100
# A scatter's sample carries at most this many columns beside the axes, the colour and the row id.
HOVER_MAX_FIELDS = 12


@dataclass(frozen=True, eq=False)  # compared and hashed as itself: chart_fields makes one per table
class ChartFields:
    """The chartable columns of one table, by how they are drawn, with their labels."""

    continuous: tuple[str, ...]  # numbers: binned
    discrete: tuple[str, ...]  # integers: a bar per value while they span few values, else binned
    categorical: tuple[str, ...]  # categories, booleans, text: a bar per value
    colors: tuple[str, ...]  # the fields a chart can be coloured by
    hover: tuple[str, ...]  # what a scatter point's hover shows, beside its axes
    category_order: dict = field(default_factory=dict)  # field -> its values in their own order
    labels: dict = field(default_factory=dict)
    ranked: frozenset = frozenset()  # categories whose order is a rank (coloured in that order)
    noun: str = "rows"  # what a row is called in titles

    @property
    def numeric(self) -> tuple[str, ...]:
        return (*self.discrete, *self.continuous)

    @property
    def chartable(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def check(self, name: str) -> str:
        """`name` when it is a column of this table, ValueError otherwise (before it reaches SQL)."""
        if name not in self.chartable and name not in self.hover and name != ROW_ID:
            raise ValueError(f"Unknown field {name!r}.")
        return name

    def sample_columns(self, *chosen: str | None) -> tuple[str, ...]:
        """The columns a scatter's sample reads: the row id, the chosen fields and the hover's."""
        wanted = (ROW_ID, *(name for name in chosen if name), *self.hover)
        return tuple(dict.fromkeys(wanted))


def _order(column: Column) -> tuple | None:
    if column.kind == "boolean":
        return (False, True)
    if column.kind == "category" and 0 < len(column.choices) <= ORDERED_MAX_CHOICES:
        return column.choices
    return None


def _span(column: Column) -> int | None:
    if column.minimum is None or column.maximum is None:
        return None
    return int(column.maximum - column.minimum) + 1


@lru_cache(maxsize=256)
def chart_fields(
    columns: tuple[Column, ...],
    *,
    first: tuple[str, ...] = (),
    ranked: tuple[str, ...] = (),
    noun: str = "rows",
) -> ChartFields:
    """The chart fields of a table with these columns; `first` go first among the categories and colours."""
    labels = {ROW_ID: "Id", **{c.name: c.label or c.name for c in columns}}
    charted = tuple(c for c in columns if c.kind != "datetime")
    hover = tuple(c.name for c in charted)[:HOVER_MAX_FIELDS]
    columns = tuple(sorted(charted, key=lambda c: c.name not in first))  # stable: `first`, then the rest
    order = {column.name: values for column in columns if (values := _order(column))}
    colors = tuple(
        c.name
        for c in columns
        if (c.name in order and len(order[c.name]) <= COLOR_MAX_GROUPS)
        or (c.kind == "integer" and (_span(c) or COLOR_MAX_VALUES + 1) <= COLOR_MAX_VALUES)
    )
    return ChartFields(
        continuous=tuple(c.name for c in columns if c.kind == "number"),
        discrete=tuple(c.name for c in columns if c.kind == "integer"),
        categorical=tuple(c.name for c in columns if c.kind in ("category", "boolean", "text")),
        colors=colors,
        hover=hover,
        category_order=order,
        labels=labels,
        ranked=frozenset(ranked),
        noun=noun,
    )


# The monsters: the rarity first (it is what the models predict), in rank order.
MONSTER_FIELDS = chart_fields(MONSTER_COLUMNS, first=("rarity",), ranked=("rarity",), noun="monsters")
# The chart a bare /view draws.
MONSTER_CHART = {"x": "level", "y": "health", "color": "rarity", "kind": "scatter"}
