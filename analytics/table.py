"""One page of any dataset's table: filtered, sorted, counted, by the paging of the monster table.

Keyset links (the sort value and id of the last row) on a column without
empty cells; a nullable column pages by offset, since a row comparison never
matches an empty cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bandersnatch.columns import ROW_ID
from bandersnatch.db import time_limited_queries
from monsters.pagination import (
    Count,
    PageNumbers,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    matching_share,
    offset_window,
)

from .filters import rows_matching
from .models import Dataset
from .tables import row_model


@dataclass(kw_only=True)
class DatasetPage(PageNumbers):
    rows: list
    keyset: bool  # links carry cursors; else page numbers


def _own_range(field: str, descending: bool, filters: dict) -> tuple | None:
    """Where a range filter on the sort column itself makes every walk start (pagination's extremes)."""
    low, high = filters.get(f"{field}_min"), filters.get(f"{field}_max")
    return (low, high) if (high if descending else low) is not None else None


def dataset_rows(dataset: Dataset):
    """Every row of the dataset, as a QuerySet of its row model."""
    return row_model(dataset.table, dataset.columns).objects.all()


def dataset_table_page(
    dataset: Dataset, *, sort: str = ROW_ID, per_page: int = 50, page: int | str = 1, after: str = "",
    before: str = "", filters: dict,
) -> DatasetPage:  # fmt: skip
    """One page of the table; ValueError for a bad cursor, QueryTimedOut when the database takes too long."""
    columns = dataset.column_list
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    unfiltered = dataset_rows(dataset)
    queryset = rows_matching(unfiltered, columns, filters)
    nullable = any(column.name == field and column.nullable for column in columns)
    model_field = unfiltered.model._meta.get_field(field)
    after_key = decode_cursor(after, model_field) if after and not nullable else None
    before_key = decode_cursor(before, model_field) if before and not nullable else None
    with time_limited_queries():
        count = count_rows(queryset)
        # A nullable sort column is never walked from a row (a comparison with an empty cell matches nothing).
        route = {
            "unfiltered": None if nullable else unfiltered,
            "share": matching_share(queryset, count),
            "extremes": _own_range(field, descending, filters),
        }
        last_page = max(1, math.ceil(count.value / per_page))
        if page == "last" and nullable:  # no walk back from the end: the last page by its number
            page = last_page
        number: int | None = page if isinstance(page, int) else None
        if page == "last":
            size = per_page if count.is_estimate else count.value % per_page or per_page
            window = keyset_window(queryset, field=field, descending=not descending, size=size, **route)
            window.rows.reverse()
            has_next, has_previous = False, window.has_more
            number = None if count.is_estimate else last_page
        elif after_key or before_key:
            window = keyset_window(
                queryset, field=field, descending=descending, size=per_page, after=after_key,
                before=before_key, **route,
            )  # fmt: skip
            has_next = window.has_more if after_key else True
            has_previous = window.has_more if before_key else True
            if before_key and not window.has_more:
                number = 1
        elif isinstance(page, int):
            offset = (page - 1) * per_page
            window = offset_window(queryset, field=field, descending=descending, size=per_page, offset=offset,
                                   **route)  # fmt: skip
            has_next, has_previous = window.has_more, page > 1
    rows = window.rows
    if count.is_estimate and not has_next and not has_previous:
        count = Count(len(rows))

    def cursor(row) -> str | None:
        return None if nullable else encode_cursor(getattr(row, field), row.pk)

    return DatasetPage(
        rows=rows, count=count, per_page=per_page, number=number,
        next_cursor=cursor(rows[-1]) if rows and has_next else None,
        previous_cursor=cursor(rows[0]) if rows and has_previous else None,
        keyset=not nullable,
    )  # fmt: skip
