"""Pure numbers for the charts and the statistics page: no ORM, no requests."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd


@dataclass
class Axis:
    """A field as groups: its own values, or equal-width bins of a continuous field."""

    field: str
    keys: list  # group keys in display order (bin numbers for a binned axis)
    edges: list[float] | None = None  # bin edges, len(keys) + 1, for a binned axis

    @property
    def is_binned(self) -> bool:
        return self.edges is not None

    @property
    def positions(self) -> list:
        """Where each group sits on a chart axis: bin centres, or the values."""
        if self.edges is None:
            return self.keys
        return [(low + high) / 2 for low, high in zip(self.edges, self.edges[1:], strict=False)]

    @property
    def labels(self) -> list[str]:
        if self.edges is None:
            return [str(key) for key in self.keys]
        return [f"{low:g} to {high:g}" for low, high in zip(self.edges, self.edges[1:], strict=False)]

    @property
    def width(self) -> float | None:
        return self.edges[1] - self.edges[0] if self.edges else None


def nice_edges(low: float, high: float, bins: int) -> list[float]:
    """About `bins` equal bins covering [low, high], with a round width."""
    if high <= low:
        return [low - 0.5, low + 0.5]
    raw = (high - low) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    width = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / width) * width
    count = max(1, math.ceil((high - start) / width - 1e-9))  # the maximum closes the last bin
    return [round(start + i * width, 10) for i in range(count + 1)]


@dataclass
class Counts:
    """Row counts per group of `axis` (and per colour group when coloured)."""

    axis: Axis
    color: Axis | None
    table: pd.DataFrame  # columns: x, (color,) count
    total: int
    sampled_percent: float | None = None  # counts estimated from a block sample of this share, or exact


@dataclass
class BoxStats:
    axis: Axis
    color: Axis | None
    table: pd.DataFrame  # x, (color,) count, mean, min, max, q1, median, q3
    sampled_from: int | None  # quartiles from a sample of this many rows, or None (exact)
    sampled_percent: float | None = None  # everything from a block sample of this share (huge tables)


@dataclass
class ColumnProfile:
    """One column, as describe() and value_counts() would summarise it."""

    name: str
    kind: str  # "integer", "float", "text" or "date-time"
    count: int
    nulls: int
    distinct: int | None
    distinct_is_estimate: bool = False
    minimum: object = None
    maximum: object = None
    mean: float | None = None
    std: float | None = None
    quartiles: list[float] | None = None
    top: list[tuple[object, int]] | None = None  # most frequent values first
    distribution: tuple[list, list[int]] | None = None  # (labels or bin edges, counts)


@dataclass
class TableProfile:
    rows: int
    columns: list[ColumnProfile]
    class_balance: list[tuple[str, int]]  # rarity -> count, in rank order
    correlation: pd.DataFrame  # numeric columns by numeric columns
    sampled_from: int | None = None  # resource quartiles and bins from a sample of this many rows


TOP_VALUES = 30


# Stored as JSON (bandersnatch.snapshots): plain values, NaN as None, times as ISO text.


def _plain(value):
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def profile_as_json(profile: TableProfile) -> dict:
    """The profile as JSON data: profile_from_json(profile_as_json(p)) shows the same page."""
    return _plain(
        {
            "rows": profile.rows,
            "columns": [vars(column) for column in profile.columns],
            "class_balance": profile.class_balance,
            "correlation": {
                "fields": list(profile.correlation.columns),
                "values": profile.correlation.to_numpy().tolist(),
            },
            "sampled_from": profile.sampled_from,
        }
    )


def profile_from_json(data: dict) -> TableProfile:
    columns = []
    for column in data["columns"]:
        column = ColumnProfile(**column)
        if column.kind == "date-time" and column.minimum is not None:
            column.minimum = dt.datetime.fromisoformat(column.minimum)
            column.maximum = dt.datetime.fromisoformat(column.maximum)
        columns.append(column)
    correlation = data["correlation"]
    return TableProfile(
        rows=data["rows"],
        columns=columns,
        class_balance=[tuple(pair) for pair in data["class_balance"]],
        correlation=pd.DataFrame(
            correlation["values"], index=correlation["fields"], columns=correlation["fields"], dtype=float
        ),
        sampled_from=data["sampled_from"],
    )
