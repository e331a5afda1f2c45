"""Chart data, computed in the database: only aggregates or a sample leave it.

Every chart function takes the rows to draw (a QuerySet of the monsters or of
any dataset) and the table's ChartFields; field names reach SQL only after
checking against those, through the ORM or quote_name; values always travel
as query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Avg, Count, F, FloatField, IntegerField, Max, Min, QuerySet
from django.db.models.functions import Cast, Coalesce, Floor, Least

from monsters.models import Monster

from .fields import DISCRETE_MAX_VALUES, ChartFields
from .pagination import Count as RowCount
from .pagination import count_rows, table_rows
from .stats import Axis, BoxStats, Counts, nice_edges

SCATTER_POINTS = 15_000  # a scatter shows at most this many rows
SCATTER_READ_ROWS = 200_000  # and reads at most this many rows' pages of a large table to find them
HISTOGRAM_BINS = 40
DENSITY_BINS = 50
# Above this many rows, box quartiles come from a uniform sample of this size.
EXACT_QUARTILE_ROWS = 100_000
SAMPLE_SEED = 20_260_101


# A text column's axis shows at most this many of its values, the most common.
TEXT_AXIS_VALUES = 50


def matching(filters: dict) -> QuerySet:
    """The monsters the filters of /data and /view keep."""
    return Monster.objects.matching(**filters).order_by()


# Sampling -------------------------------------------------------------------


@dataclass
class Sample:
    rows: pd.DataFrame
    total: RowCount  # rows matching the filters, of which `rows` is a uniform sample

    @property
    def is_complete(self) -> bool:
        return len(self.rows) >= self.total.value and not self.total.is_estimate


# From a table of this many rows on, a sample is drawn by pages (TABLESAMPLE SYSTEM):
# BERNOULLI reads every page of the table, SYSTEM only the pages it keeps.
BLOCK_SAMPLE_TABLE_ROWS = 500_000


def sample_rows(queryset: QuerySet, fields: ChartFields, *, size: int, columns=None) -> Sample:
    """A random sample of at most `size` rows, every row when there are few.

    PostgreSQL draws it with TABLESAMPLE and a fixed seed, so a chart is stable
    until the data change: BERNOULLI (each row independently) in a table of
    fewer than BLOCK_SAMPLE_TABLE_ROWS, SYSTEM (whole pages) in a larger one;
    other databases order by random().
    """
    columns = [fields.check(column) for column in columns or fields.sample_columns()]
    total = count_rows(queryset)
    if total.value <= size and not total.is_estimate:
        return Sample(_frame(queryset.values_list(*columns), columns), total)
    if connections[queryset.db].vendor != "postgresql":
        return Sample(_frame(queryset.order_by("?").values_list(*columns)[:size], columns), total)
    table = table_rows(queryset)
    # A little over `size`, trimmed below; never more than SCATTER_READ_ROWS of a large table, so a
    # filter keeping a few per cent of it shows fewer points rather than reading half its pages.
    percent = min(100.0, 100.0 * 1.1 * size / total.value, 100.0 * SCATTER_READ_ROWS / max(table, 1))
    method = "SYSTEM" if table >= BLOCK_SAMPLE_TABLE_ROWS else "BERNOULLI"
    rows = _frame(tablesample_rows(queryset, columns, percent, method), columns)
    if len(rows) > size:
        keep = np.random.default_rng(SAMPLE_SEED).choice(len(rows), size=size, replace=False)
        rows = rows.iloc[np.sort(keep)].reset_index(drop=True)
    return Sample(rows, total)


def tablesample_rows(queryset: QuerySet, columns: list[str], percent: float, method: str) -> list[tuple]:
    try:
        sql, params = _sampled_sql(queryset.values_list(*columns), percent, method)
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sampled_sql(queryset: QuerySet, percent: float, method: str = "BERNOULLI") -> tuple[str, tuple]:
    """The queryset's SQL reading a seeded sample of the table (PostgreSQL).

    BERNOULLI draws rows (and reads every page); SYSTEM draws whole pages, so
    it reads only the share it samples.  The ORM has no TABLESAMPLE; the
    clause goes right after the table name.  Both numbers are ours (never user
    input) and are written as literals.
    """
    if method not in ("BERNOULLI", "SYSTEM"):
        raise ValueError(f"Unknown sampling method {method!r}.")
    sql, params = queryset.query.sql_with_params()
    table = connections[queryset.db].ops.quote_name(queryset.model._meta.db_table)
    source = f"FROM {table}"
    if sql.count(source) != 1:
        raise ValueError("Cannot sample a query that reads the table more than once.")
    sampled = f"{source} TABLESAMPLE {method} ({float(percent):.6f}) REPEATABLE ({int(SAMPLE_SEED)})"
    return sql.replace(source, sampled), params


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


# Axes: how a field is grouped -------------------------------------------------


def axis_for(
    queryset: QuerySet,
    fields: ChartFields,
    field: str,
    *,
    bins: int,
    percent: float | None = None,
    bounds: tuple | None = None,
) -> tuple[Axis, object]:
    """The Axis for `field` over `queryset` (or its sample of `percent`), and the expression to group by.

    Numbers are binned; whole numbers get a bar each while they span at most
    DISCRETE_MAX_VALUES; categories keep their own order; any other text gets
    no keys here: _settled takes its TEXT_AXIS_VALUES most common values from
    the chart's own counts (one scan of the rows, not two).
    """
    fields.check(field)
    if field in fields.category_order:
        return Axis(field, list(fields.category_order[field])), F(field)
    if field in fields.discrete:
        # Few whole numbers in the whole table (read off its index): a bar each, no scan of the matching
        # rows for their extremes (_settled trims the axis to the values they have).
        low, high = _extremes_of(queryset.model._default_manager.order_by(), [field])[field]
        if low is not None and high - low < DISCRETE_MAX_VALUES:
            return Axis(field, list(range(low, high + 1))), F(field)
    if field in fields.numeric:
        low, high = bounds if bounds is not None else _extremes_of(queryset, [field], percent)[field]
        if low is None:
            return Axis(field, [], []), F(field)
        edges = nice_edges(low, high, bins)
        return Axis(field, list(range(len(edges) - 1)), edges), _bucket(field, edges)
    return Axis(field, []), F(field)


def _extremes_of(queryset: QuerySet, names: list[str], percent: float | None = None) -> dict:
    """{field: (lowest, highest)} among the rows of `queryset`, or of its block sample of `percent`,
    in one query whatever the number of fields (a density chart's two axes: one scan, not two).

    The whole table's are read off each field's index.  A filtered queryset's
    are aggregated over its rows: walking the field's index to the first
    matching row can pass most of the table when the filter goes with the
    field (the highest sanity among high levels), so COALESCE(x, x), which no
    index is on, keeps the planner from trying.
    """
    if percent is not None:
        try:
            sql, params = _sampled_sql(queryset.values_list(*names), percent, method="SYSTEM")
        except EmptyResultSet:
            return {name: (None, None) for name in names}
        quote = connections[queryset.db].ops.quote_name
        ends = ", ".join(f"min({quote(name)}), max({quote(name)})" for name in names)
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"SELECT {ends} FROM ({sql}) AS sampled", params)
            found = cursor.fetchone()
        return {name: (found[2 * i], found[2 * i + 1]) for i, name in enumerate(names)}
    filtered = bool(queryset.query.where)
    values = {name: Coalesce(F(name), F(name)) if filtered else F(name) for name in names}
    found = queryset.aggregate(
        **{f"low_{i}": Min(values[name]) for i, name in enumerate(names)},
        **{f"high_{i}": Max(values[name]) for i, name in enumerate(names)},
    )
    return {name: (found[f"low_{i}"], found[f"high_{i}"]) for i, name in enumerate(names)}


# Above this many matching rows, chart aggregates come from a block sample of
# about CHART_SAMPLE_ROWS of them (scaled up, and labelled as estimates), reading
# at most CHART_READ_ROWS of the table: a filter that keeps a few per cent of ten
# million rows is drawn from the tens of thousands of them in that many.
CHART_EXACT_ROWS = 200_000
CHART_SAMPLE_ROWS = 100_000
CHART_READ_ROWS = 500_000


def chart_sample_percent(queryset: QuerySet) -> float | None:
    """The share of the table's pages a chart reads (TABLESAMPLE SYSTEM), or None to read every row."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    matching = count_rows(queryset)
    if not matching.is_estimate or matching.value <= CHART_EXACT_ROWS:
        return None
    share = min(CHART_SAMPLE_ROWS / matching.value, CHART_READ_ROWS / max(table_rows(queryset), 1))
    return 100.0 * min(share, 1.0)


def _grouped(rows: QuerySet, columns: list[str], percent: float | None) -> pd.DataFrame:
    """The grouped query's rows, from every row or from a block sample of `percent`."""
    if percent is None:
        return pd.DataFrame.from_records(list(rows), columns=columns)
    with connections[rows.db].cursor() as cursor:
        cursor.execute(*_sampled_sql(rows, percent, method="SYSTEM"))
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


# Aggregates -----------------------------------------------------------------


def histogram_counts(
    queryset: QuerySet, fields: ChartFields, *, x: str, color: str | None = None, bins: int = HISTOGRAM_BINS
) -> Counts:
    queryset = queryset.order_by()
    percent = chart_sample_percent(queryset)
    x_axis, x_expr = axis_for(queryset, fields, x, bins=bins, percent=percent)
    color_axis = axis_for(queryset, fields, color, bins=bins, percent=percent)[0] if color else None
    groups = {"x": x_expr, **({"color": F(color)} if color else {})}
    rows = queryset.annotate(**groups).values(*groups).annotate(count=Count("pk")).order_by()
    table = _scaled(_grouped(rows, [*groups, "count"], percent), percent)
    x_axis = _settled(x_axis, table, "x", fields)
    return Counts(x_axis, color_axis, table, int(table["count"].sum()), sampled_percent=percent)


def _settled(axis: Axis, table: pd.DataFrame, column: str, fields: ChartFields) -> Axis:
    """The axis as the grouped counts show it: a text field's most common values (as axis_for says);
    whole numbers from the lowest to the highest present (their axis came from the whole table)."""
    if axis.is_binned or axis.field in fields.category_order:
        return axis
    if axis.field in fields.discrete:
        present = table[column].dropna()
        return (
            Axis(axis.field, [key for key in axis.keys if present.min() <= key <= present.max()])
            if len(present)
            else Axis(axis.field, [])
        )
    counts = table.dropna(subset=[column]).groupby(column)["count"].sum()
    top = counts.sort_values(ascending=False, kind="stable").head(TEXT_AXIS_VALUES)
    return Axis(axis.field, top.index.tolist())


def _scaled(table: pd.DataFrame, percent: float | None) -> pd.DataFrame:
    """Counts of a sample scaled up to the whole table (whole numbers)."""
    if percent is not None and len(table):
        table["count"] = (table["count"] * 100.0 / percent).round().astype("int64")
    return table


def density_counts(
    queryset: QuerySet, fields: ChartFields, *, x: str, y: str, bins: int = DENSITY_BINS
) -> tuple[Axis, Axis, pd.DataFrame, float | None]:
    """Counts on the grid of x groups by y groups (columns x, y, count), and the sample's share if any."""
    queryset = queryset.order_by()
    percent = chart_sample_percent(queryset)
    both = {} if x == y or not {x, y} <= set(fields.continuous) else _extremes_of(queryset, [x, y], percent)
    x_axis, x_expr = axis_for(queryset, fields, x, bins=bins, percent=percent, bounds=both.get(x))
    y_axis, y_expr = axis_for(queryset, fields, y, bins=bins, percent=percent, bounds=both.get(y))
    rows = queryset.annotate(gx=x_expr, gy=y_expr).values("gx", "gy").annotate(count=Count("pk")).order_by()
    table = _scaled(_grouped(rows, ["gx", "gy", "count"], percent), percent).rename(
        columns={"gx": "x", "gy": "y"}
    )
    return _settled(x_axis, table, "x", fields), _settled(y_axis, table, "y", fields), table, percent


def box_stats(
    queryset: QuerySet, fields: ChartFields, *, y: str, x: str, color: str | None = None
) -> BoxStats:
    """Per group of x (and colour): exact count, mean, min and max; quartiles.

    Quartiles are percentile_cont in PostgreSQL, over every row up to
    EXACT_QUARTILE_ROWS and over a uniform sample of that size beyond.
    """
    if y not in fields.numeric:
        raise ValueError(f"A box plot needs a numeric y, not {y!r}.")
    queryset = queryset.order_by()
    percent = chart_sample_percent(queryset)
    x_axis, x_expr = axis_for(queryset, fields, x, bins=12, percent=percent)
    color_axis = axis_for(queryset, fields, color, bins=12, percent=percent)[0] if color else None
    groups = {"x": x_expr, **({"color": F(color)} if color else {})}
    exact = (
        queryset.annotate(**groups)
        .values(*groups)
        .annotate(count=Count("pk"), mean=Avg(y), min=Min(y), max=Max(y))
        .order_by()
    )
    table = _scaled(_grouped(exact, [*groups, "count", "mean", "min", "max"], percent), percent)
    x_axis = _settled(x_axis, table, "x", fields)
    quartiles, sampled_from = _quartiles(queryset, groups, y, rows=int(table["count"].sum()), percent=percent)
    table = table.merge(quartiles, on=list(groups), how="left")
    return BoxStats(x_axis, color_axis, table, sampled_from, sampled_percent=percent)


def _quartiles(
    queryset: QuerySet, groups: dict, y: str, *, rows: int, percent: float | None = None
) -> tuple[pd.DataFrame, int | None]:
    """Quartiles per group: over the block sample of `percent` (the chart's own), or over
    every row up to EXACT_QUARTILE_ROWS and a uniform sample of that size beyond."""
    columns = [*groups, "q1", "median", "q3"]
    if connections[queryset.db].vendor != "postgresql":
        values = pd.DataFrame.from_records(
            list(queryset.annotate(**groups).values(*groups, y)), columns=[*groups, y]
        )
        if values.empty:
            return pd.DataFrame(columns=columns), None
        grouped = values.groupby(list(groups), observed=True)[y]
        table = grouped.quantile([0.25, 0.5, 0.75]).unstack()
        table.columns = ["q1", "median", "q3"]
        return table.reset_index(), None
    # percentile_cont has no ORM aggregate: group the rows the ORM selects.
    inner = queryset.annotate(**groups, v=Cast(y, FloatField())).values(*groups, "v")
    sampled_from = None
    if percent is not None:
        sql, params = _sampled_sql(inner, percent, "SYSTEM")
        sampled_from = round(rows * percent / 100)
    elif rows > EXACT_QUARTILE_ROWS:
        sql, params = _sampled_sql(inner, 100.0 * EXACT_QUARTILE_ROWS / rows)
        sampled_from = EXACT_QUARTILE_ROWS
    else:
        sql, params = inner.query.sql_with_params()
    keys = ", ".join(groups)  # "x" and "color": our own aliases
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT {keys}, percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY v) "
            f"FROM ({sql}) AS grouped_rows GROUP BY {keys}",
            params,
        )
        records = [(*row[:-1], *row[-1]) for row in cursor.fetchall()]
    return pd.DataFrame.from_records(records, columns=columns), sampled_from


def _bucket(field: str, edges: list[float]):
    """The histogram bin of `field`, 0 .. len(edges) - 2, as an SQL expression.

    The tiny nudge keeps a value lying exactly on an edge in the bin that
    starts there (float division can land just below the whole number), so
    bins agree with `field >= edge`, as the table filters do.
    """
    width = edges[1] - edges[0]
    position = Floor((F(field) - edges[0]) / width + 1e-9)
    return Least(Cast(position, IntegerField()), len(edges) - 2)
