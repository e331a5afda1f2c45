"""Pure numbers for the charts and the statistics page: no ORM, no requests."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from itertools import accumulate

import pandas as pd

from .fields import MONSTER_FIELDS

CONTINUOUS, NUMERIC = MONSTER_FIELDS.continuous, MONSTER_FIELDS.numeric  # the monster profile's
CATEGORY_ORDER = MONSTER_FIELDS.category_order


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


def quantile_positions(total: int, probabilities=(0.25, 0.5, 0.75)) -> list[tuple[int, float]]:
    """For each probability, the 0-based rank below it and the fraction towards the next.

    Linear interpolation between closest ranks, as pandas and percentile_cont do.
    """
    positions = []
    for p in probabilities:
        exact = p * (total - 1)
        below = math.floor(exact)
        positions.append((below, exact - below))
    return positions


def interpolate(low: float, high: float, fraction: float) -> float:
    return low + (high - low) * fraction


def quantiles_from_counts(values, counts, probabilities=(0.25, 0.5, 0.75)) -> list[float]:
    """Quantiles of a column given as distinct sorted `values` with their `counts`."""
    order = sorted(zip(values, counts, strict=True))
    values = [value for value, _ in order]
    ends = list(accumulate(count for _, count in order))  # rank after each value
    total = ends[-1] if ends else 0
    if total == 0:
        return [math.nan] * len(probabilities)

    def at(rank: int) -> float:
        return values[bisect.bisect_right(ends, rank)]

    return [
        interpolate(at(below), at(min(below + 1, total - 1)), fraction)
        for below, fraction in quantile_positions(total, probabilities)
    ]


@dataclass
class Moments:
    """Sums over rows, from which means, deviations and correlations follow exactly."""

    count: int
    sums: dict[str, float]  # field -> sum of values
    squares: dict[str, float]  # field -> sum of squared values
    products: dict[tuple[str, str], float]  # (a, b) -> sum of a*b, a before b in `fields`

    def mean(self, field: str) -> float:
        return self.sums[field] / self.count if self.count else math.nan

    def std(self, field: str) -> float:
        """Sample standard deviation (n - 1), as pandas' describe()."""
        if self.count < 2:
            return math.nan
        variance = (self.squares[field] - self.sums[field] ** 2 / self.count) / (self.count - 1)
        return math.sqrt(max(variance, 0.0))

    def correlation(self, a: str, b: str) -> float:
        if a == b:
            return 1.0
        product = self.products.get((a, b), self.products.get((b, a)))
        n = self.count
        covariance = product - self.sums[a] * self.sums[b] / n
        spread = math.sqrt(
            max(self.squares[a] - self.sums[a] ** 2 / n, 0.0)
            * max(self.squares[b] - self.sums[b] ** 2 / n, 0.0)
        )
        return covariance / spread if spread else math.nan

    def correlation_matrix(self, fields) -> pd.DataFrame:
        return pd.DataFrame(
            [[self.correlation(a, b) for b in fields] for a in fields],
            index=list(fields),
            columns=list(fields),
        )


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


def _counted(profile_name: str, kind: str, counts: pd.Series, *, order=None) -> ColumnProfile:
    """A column summarised from its value counts (a Series: value -> count)."""
    counts = counts[counts > 0]
    total = int(counts.sum())
    ordered = counts.reindex([v for v in order if v in counts.index]) if order else counts.sort_index()
    column = ColumnProfile(
        name=profile_name,
        kind=kind,
        count=total,
        nulls=0,
        distinct=len(counts),
        top=[
            (value, int(n))
            for value, n in counts.sort_values(ascending=False, kind="stable").head(TOP_VALUES).items()
        ],
        distribution=([str(v) for v in ordered.index], [int(n) for n in ordered.to_numpy()]),
    )
    if len(counts):
        column.minimum, column.maximum = ordered.index.min(), ordered.index.max()
    return column


def table_profile(raw) -> TableProfile:
    """The statistics page's numbers from the aggregates of selectors.raw_profile()."""
    groups = raw.groups
    rows = int(groups["n"].sum()) if len(groups) else 0
    if not rows:
        return TableProfile(rows=0, columns=[], class_balance=[], correlation=pd.DataFrame())

    def counts_of(key: str) -> pd.Series:
        return groups.groupby(key)["n"].sum()

    # Sums over all rows; level is a group key, so its sums come from n.
    level, n = groups["level"].astype(float), groups["n"]
    sums = {"level": float((level * n).sum()), **{f: float(groups[f"sum_{f}"].sum()) for f in CONTINUOUS}}
    squares = {
        "level": float((level**2 * n).sum()),
        **{f: float(groups[f"sq_{f}"].sum()) for f in CONTINUOUS},
    }
    products = {("level", f): float((level * groups[f"sum_{f}"]).sum()) for f in CONTINUOUS}
    for i, a in enumerate(CONTINUOUS):
        for b in CONTINUOUS[i + 1 :]:
            products[(a, b)] = float(groups[f"x_{a}_{b}"].sum())
    moments = Moments(rows, sums, squares, products)

    level_counts = counts_of("level")
    level_profile = _counted("level", "integer", level_counts)
    level_profile.quartiles = quantiles_from_counts(level_counts.index.tolist(), level_counts.tolist())
    columns = [
        _counted("name", "text", raw.names.set_index("name")["n"]),
        _counted("type", "text", counts_of("type"), order=CATEGORY_ORDER["type"]),
        level_profile,
        _counted("rarity", "text", counts_of("rarity"), order=CATEGORY_ORDER["rarity"]),
        _counted("damage", "text", counts_of("damage")),
    ]
    for field in CONTINUOUS:
        distinct, estimated = raw.distinct.get(field, (None, True))
        edges, bin_counts = raw.histograms[field]
        columns.append(
            ColumnProfile(
                name=field,
                kind="float",
                count=rows,
                nulls=0,
                distinct=distinct,
                distinct_is_estimate=estimated,
                minimum=float(raw.bounds[field][0]),
                maximum=float(raw.bounds[field][1]),
                quartiles=raw.quartiles[field],
                distribution=(edges, bin_counts),
            )
        )
    for column in columns:
        if column.name in NUMERIC:
            column.mean, column.std = moments.mean(column.name), moments.std(column.name)
    created_distinct, created_estimated = raw.distinct.get("created_at", (None, True))
    columns.append(
        ColumnProfile(
            name="created_at",
            kind="date-time",
            count=rows,
            nulls=0,
            distinct=created_distinct,
            distinct_is_estimate=created_estimated,
            minimum=raw.created_at[0],
            maximum=raw.created_at[1],
        )
    )
    rarity = counts_of("rarity")
    balance = [(r, int(rarity.get(r, 0))) for r in CATEGORY_ORDER["rarity"]]
    return TableProfile(rows, columns, balance, moments.correlation_matrix(NUMERIC), raw.sampled_from)


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
