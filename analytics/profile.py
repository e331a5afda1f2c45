"""The statistics profile of any dataset, from its column description, computed in the database.

Exact: one aggregate query (rows, true nulls of nullable columns, means,
standard deviations; up to EXACT_ROWS rows the correlations too) and each
column's extremes from the ends of its index.  The shapes (quartiles,
distinct and most common values, distributions; the correlations of a larger
table) come from the rows: all of them up to EXACT_ROWS, else a sample of
about SAMPLE_ROWS, labelled as such.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, QuerySet, StdDev, Sum

from bandersnatch.columns import RANGED_KINDS, Column

from .models import Dataset
from .pagination import table_rows
from .selectors import tablesample_rows
from .stats import TOP_VALUES, ColumnProfile, TableProfile, nice_edges, profile_as_json, profile_from_json
from .table import dataset_rows

EXACT_ROWS = 100_000
SAMPLE_ROWS = 30_000
BINS = 30
DISCRETE_MAX_VALUES = 30  # an integer column with at most this many values gets a bar per value
CACHE_SECONDS = 24 * 3600
DISPLAY_KINDS = {"integer": "integer", "number": "float", "datetime": "date-time"}  # others: "text"


class Corr(Aggregate):
    """PostgreSQL's corr(y, x): the Pearson correlation of the rows where both are present."""

    function = "CORR"
    output_field = FloatField()


def dataset_profile(dataset: Dataset) -> TableProfile:
    """The profile, cached until the dataset's rows change."""
    key = f"analytics:profile:{dataset.data_version()}"
    stored = cache.get(key)
    if stored is None:
        stored = profile_as_json(dataset_profile_compute(dataset))
        cache.set(key, stored, CACHE_SECONDS)
    return profile_from_json(stored)


def dataset_profile_compute(dataset: Dataset) -> TableProfile:
    return profile_compute(dataset_rows(dataset), dataset.column_list, dataset.table)


def profile_compute(rows: QuerySet, columns: tuple[Column, ...], table: str) -> TableProfile:
    """The profile of the table `table` whose rows `rows` reads, described by `columns`."""
    # Exact correlations cost a third of a large table's scan: above EXACT_ROWS they come from the sample.
    exact_correlations = connection.vendor == "postgresql" and table_rows(rows) <= EXACT_ROWS
    exact = _aggregates(rows, columns, correlations=exact_correlations)
    total = exact["rows"]
    if not total:
        return TableProfile(rows=0, columns=[], class_balance=[], correlation=pd.DataFrame())
    frame, sampled_from = _rows_read(rows, columns, total)
    profiles = [_column(column, exact, frame, total, sampled=sampled_from is not None) for column in columns]
    if sampled_from is not None:
        _distinct_from_statistics(table, profiles, total)
    numeric = [column.name for column in columns if column.is_numeric]
    if exact_correlations:

        def corr(a: str, b: str) -> float:
            return 1.0 if a == b else _nan(exact.get(f"corr_{a}_{b}", exact.get(f"corr_{b}_{a}")))

        matrix = [[corr(a, b) for b in numeric] for a in numeric]
        correlation = pd.DataFrame(matrix, index=numeric, columns=numeric, dtype=float)
    else:
        correlation = frame[numeric].astype(float).corr() if numeric else pd.DataFrame()
    return TableProfile(total, profiles, class_balance=[], correlation=correlation, sampled_from=sampled_from)


def _aggregates(rows, columns: tuple[Column, ...], *, correlations: bool) -> dict:
    """Every exact figure: the sums in one scan, the extremes from each column's index.

    A column the description says has no empty cell is not counted: its
    count is the rows' (the table's NOT NULL holds it to that).
    """
    figures = {"rows": Count("pk")}
    for column in columns:
        name = column.name
        if column.nullable:
            figures[f"count_{name}"] = Count(name)
        if column.is_numeric:
            figures[f"mean_{name}"] = Avg(name, output_field=FloatField())
            if connection.vendor == "postgresql":
                figures[f"std_{name}"] = StdDev(name, sample=True, output_field=FloatField())
            else:  # SQLite's STDDEV_SAMP (Django's, in Python) fails on an empty cell
                figures[f"sum_{name}"] = Sum(name, output_field=FloatField())
                figures[f"squares_{name}"] = Sum(F(name) * F(name), output_field=FloatField())
    if correlations:
        numeric = [column.name for column in columns if column.is_numeric]
        for i, a in enumerate(numeric):
            for b in numeric[i + 1 :]:
                figures[f"corr_{a}_{b}"] = Corr(a, b)
    exact = rows.aggregate(**figures)
    for column in columns:
        name = column.name
        exact.setdefault(f"count_{name}", exact["rows"])
        if column.kind in RANGED_KINDS:  # the ends of its (column, id) index
            present = rows.filter(**{f"{name}__isnull": False})
            exact[f"min_{name}"] = present.order_by(name).values_list(name, flat=True).first()
            exact[f"max_{name}"] = present.order_by(f"-{name}").values_list(name, flat=True).first()
        count = exact[f"count_{name}"]
        if f"squares_{name}" in exact:
            spread = (exact[f"squares_{name}"] or 0.0) - (exact[f"sum_{name}"] or 0.0) ** 2 / max(count, 1)
            exact[f"std_{name}"] = math.sqrt(max(spread, 0.0) / (count - 1)) if count > 1 else None
    return exact


def _rows_read(rows, columns: tuple[Column, ...], total: int) -> tuple[pd.DataFrame, int | None]:
    """Every row up to EXACT_ROWS, else a sample of about SAMPLE_ROWS (and how many it holds)."""
    names = [column.name for column in columns]
    if total <= EXACT_ROWS:
        return pd.DataFrame.from_records(list(rows.values_list(*names)), columns=names), None
    if connection.vendor == "postgresql":
        percent = min(100.0, 100.0 * SAMPLE_ROWS / total)
        records = tablesample_rows(rows, names, percent, "SYSTEM")
    else:
        records = list(rows.order_by("?").values_list(*names)[:SAMPLE_ROWS])
    return pd.DataFrame.from_records(records, columns=names), len(records)


def _column(column: Column, exact: dict, frame: pd.DataFrame, total: int, *, sampled: bool) -> ColumnProfile:
    name = column.name
    present = frame[name].dropna()
    count = exact[f"count_{name}"]
    scale = total / len(frame) if len(frame) else 1.0  # sample counts to whole-table counts
    distinct = int(present.nunique())
    profile = ColumnProfile(
        name=name, kind=DISPLAY_KINDS.get(column.kind, "text"), count=count, nulls=total - count,
        distinct=distinct, distinct_is_estimate=sampled and distinct > 0,
    )  # fmt: skip
    if column.kind in RANGED_KINDS:
        profile.minimum, profile.maximum = exact[f"min_{name}"], exact[f"max_{name}"]
    if column.is_numeric:
        profile.mean, profile.std = _nan(exact[f"mean_{name}"]), _nan(exact[f"std_{name}"])
        values = present.astype(float)
        if len(values):
            profile.quartiles = [float(q) for q in np.quantile(values, [0.25, 0.5, 0.75])]
        if column.kind == "integer" and distinct <= DISCRETE_MAX_VALUES:
            profile.kind = "integer"
            counts = values.value_counts().sort_index()
            profile.distribution = ([str(int(v)) for v in counts.index], [round(n * scale) for n in counts])
        elif len(values):
            edges = nice_edges(float(profile.minimum), float(profile.maximum), BINS)
            binned, _ = np.histogram(values.clip(edges[0], edges[-1]), bins=edges)
            profile.distribution = (edges, [round(n * scale) for n in binned])
    elif column.kind != "datetime" and len(present):
        counts = present.astype(str).value_counts().sort_index().sort_values(ascending=False, kind="stable")
        profile.top = [(value, round(n * scale)) for value, n in counts.head(TOP_VALUES).items()]
        shown = counts.sort_index() if len(counts) <= TOP_VALUES else counts.head(TOP_VALUES)
        if counts.iloc[0] > 1:  # no chart when every value is different: it would be a row of ones
            profile.distribution = ([str(v) for v in shown.index], [round(n * scale) for n in shown])
        if column.kind == "boolean":
            words = {"True": "yes", "False": "no"}
            profile.top = [(words[value], n) for value, n in profile.top]
            profile.distribution = ([words[v] for v in shown.index], [round(n * scale) for n in shown])
    return profile


def _distinct_from_statistics(table: str, profiles: list[ColumnProfile], total: int) -> None:
    """Distinct counts of a sampled table from the database's statistics (a sample undercounts them)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname, n_distinct FROM pg_stats WHERE tablename = %s", [table])
        estimates = dict(cursor.fetchall())
    for profile in profiles:
        if (estimate := estimates.get(profile.name)) is not None:
            # Negative: a share of the rows (it grows with the table); positive: a count.
            profile.distinct = round(-estimate * total) if estimate < 0 else round(estimate)
            profile.distinct_is_estimate = True


def _nan(value) -> float:
    return math.nan if value is None else float(value)
