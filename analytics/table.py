"""One page of a table, the monsters' or any dataset's: filtered, sorted, counted (analytics.pagination).

Keyset links (the sort value and id of the last row) on every column; a
column's empty cells come after its values ascending and before them
descending, as PostgreSQL's index keeps them (pagination._rows_with_empties).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max, Min, QuerySet

from bandersnatch.columns import ROW_ID, ROW_ID_COLUMN, Column
from bandersnatch.db import time_limited_queries
from bandersnatch.snapshots import snapshot_compute

from . import pagination
from .filters import rows_matching
from .models import Dataset
from .pagination import (
    Count,
    PageNumbers,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    matching_share,
    offset_window,
)
from .tables import row_model


@dataclass(kw_only=True)
class TablePage(PageNumbers):
    rows: list
    past_end: bool = False  # a page number past the last was asked for: this is the last page

    @property
    def first_row(self) -> int | None:
        """The first row's position from 1; None without rows or when the number is not known."""
        return (self.number - 1) * self.per_page + 1 if self.rows and self.number else None

    @property
    def last_row(self) -> int | None:
        return self.first_row + len(self.rows) - 1 if self.first_row else None


def filtered_range(column: Column, descending: bool, filters: dict) -> tuple | None:
    """Where a filter on the sort column itself makes every walk start (pagination's extremes):
    its range, or the one value it keeps; None when it does not bound the walk's start."""
    if column.name in filters:
        value = filters[column.name]
        value = value == "yes" if column.kind == "boolean" else value
        return value, value
    low, high = filters.get(f"{column.name}_min"), filters.get(f"{column.name}_max")
    return (low, high) if (high if descending else low) is not None else None


def dataset_rows(dataset: Dataset):
    """Every row of the dataset, as a QuerySet of its row model."""
    return row_model(dataset.table, dataset.columns).objects.all()


def dataset_row_count(dataset: Dataset) -> Count:
    """How many rows the dataset holds: its count recorded at each load; the built-in monsters,
    whose rows change without a reload, counted (PostgreSQL's estimate when many: count_rows)."""
    if dataset.is_builtin:
        return count_rows(dataset_rows(dataset))
    return Count(dataset.row_count)


def dataset_random_row(dataset: Dataset, names: list[str]) -> dict:
    """One real row's values of the named columns, picked at random by id (two index lookups); {} if none."""
    rows = dataset_rows(dataset)
    bounds = rows.aggregate(low=Min(ROW_ID), high=Max(ROW_ID))
    if bounds["low"] is None:
        return {}
    pick = random.randint(bounds["low"], bounds["high"])  # noqa: S311 (a sample row, not a secret)
    return rows.filter(id__gte=pick).order_by(ROW_ID).values(*names).first() or {}


def dataset_table_page(
    dataset: Dataset, *, sort: str = ROW_ID, per_page: int = 50, page: int | str = 1, after: str = "",
    before: str = "", filters: dict,
) -> TablePage:  # fmt: skip
    """One page of a dataset's table (see table_page)."""
    columns = dataset.column_list
    field = sort.lstrip("-")
    column = next((column for column in columns if column.name == field), None)  # None: the row id
    empty = filters.get(f"{field}_empty")
    if empty == "yes":  # every matching sort value is empty: their order is the ids'
        sort, column = ("-" if sort.startswith("-") else "") + ROW_ID, None
    unfiltered = dataset_rows(dataset)
    return table_page(
        rows_matching(unfiltered, columns, filters), unfiltered=unfiltered, sort=sort, per_page=per_page,
        page=page, after=after, before=before, nullable=bool(column and column.nullable and empty != "no"),
        extremes=filtered_range(column or ROW_ID_COLUMN, sort.startswith("-"), filters),
        anchors=None if column and column.nullable else lambda field: dataset_anchors(dataset, field),
    )  # fmt: skip


def dataset_anchors(dataset: Dataset, field: str) -> dict | None:
    """The page anchors of a large dataset's (field, id) order, worked out at the first deep jump
    into it and kept until the rows change (a column without empty cells: the anchors walk values)."""
    rows = dataset_rows(dataset)
    if pagination.table_rows(rows) < pagination.ANCHORS_FROM_ROWS:
        return None
    name = f"analytics:anchors:{dataset.pk}:{field}"
    return snapshot_compute(name, dataset.data_version, lambda: pagination.anchors_compute(rows, field))


def table_page(
    queryset: QuerySet, *, unfiltered: QuerySet, sort: str, per_page: int, page: int | str, after: str,
    before: str, extremes: tuple | None = None, nullable: bool = False,
    anchors: Callable[[str], dict | None] | None = None,
) -> TablePage:  # fmt: skip
    """One page of `queryset` (the rows of `unfiltered` that pass the filters): sorted, counted.

    `page` is a number (reached by offset unless a cursor is given, in which
    case it only labels the page) or "last"; a number past the last page
    gets the last page, marked `past_end`.  `after` / `before` are the
    cursors of next and previous links.  `extremes`: where a matching row's
    sort value can lie, if known; `anchors`: the field's page anchors, if
    any, for deep jumps into the unfiltered table; `nullable`: the sort column
    has empty cells.  Raises ValueError for a bad cursor and QueryTimedOut
    when the database takes too long.
    """
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    model_field = unfiltered.model._meta.get_field(field)
    after_key = decode_cursor(after, model_field, nullable=nullable) if after else None
    before_key = decode_cursor(before, model_field, nullable=nullable) if before else None
    with time_limited_queries():
        count = count_rows(queryset)
        route = {
            "unfiltered": unfiltered,
            "share": matching_share(queryset, count),
            "extremes": extremes,
            "nullable": nullable,
        }
        last_page = max(1, math.ceil(count.value / per_page))
        past_end = isinstance(page, int) and page > last_page and after_key is None and before_key is None
        if past_end:  # reached from the end, rather than by an offset past every row
            page = "last"
        number: int | None = page if isinstance(page, int) else None
        if page == "last":
            size = per_page if count.is_estimate else count.value % per_page or per_page
            window = keyset_window(queryset, field=field, descending=not descending, size=size, **route)
            window.rows.reverse()
            has_next, has_previous = False, window.has_more
            number = None if count.is_estimate else last_page
        elif after_key is not None or before_key is not None:
            window = keyset_window(
                queryset, field=field, descending=descending, size=per_page, after=after_key,
                before=before_key, **route,
            )  # fmt: skip
            has_next = window.has_more if after_key is not None else True
            has_previous = window.has_more if before_key is not None else True
            if before_key is not None and not window.has_more:
                number = 1
        else:
            offset = (page - 1) * per_page
            deep = anchors is not None and route["share"] == 1.0 and offset >= pagination.ANCHOR_EVERY
            window = offset_window(
                queryset, field=field, descending=descending, size=per_page, offset=offset,
                anchors=anchors(field) if deep else None, **route,
            )  # fmt: skip
            has_next, has_previous = window.has_more, page > 1
    rows = window.rows
    if count.is_estimate and not has_next and not has_previous:  # one page holds them all
        count = Count(len(rows))

    def cursor(row) -> str:
        return encode_cursor(getattr(row, field), row.pk)

    return TablePage(
        rows=rows, count=count, per_page=per_page, number=number, past_end=past_end,
        next_cursor=cursor(rows[-1]) if rows and has_next else None,
        previous_cursor=cursor(rows[0]) if rows and has_previous else None,
    )  # fmt: skip
