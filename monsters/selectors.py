"""Reads that build more than a queryset: the data page's table."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bandersnatch.db import time_limited_queries

from .models import Monster
from .pagination import (
    Count,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    matching_share,
    offset_window,
)


@dataclass
class TablePage:
    monsters: list[Monster]
    count: Count
    per_page: int
    number: int | None  # None when reached by cursor from the end (count estimated)
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.count.value / self.per_page))

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number else None

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number and self.number > 1 else None


def monster_table_page(
    *,
    sort: str = "id",
    per_page: int = 50,
    page: int | str = 1,
    after: str = "",
    before: str = "",
    **filters,
) -> TablePage:
    """One page of the monster table: filtered, sorted, counted.

    `page` is a number (reached by offset unless a cursor is given, in which
    case it only labels the page) or "last".  Raises ValueError for a bad
    cursor and QueryTimedOut when the database takes too long.
    """
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    model_field = Monster._meta.get_field(field)
    queryset = Monster.objects.matching(**filters)
    after_key = decode_cursor(after, model_field) if after else None
    before_key = decode_cursor(before, model_field) if before else None

    with time_limited_queries():
        count = count_rows(queryset)
        route = {"unfiltered": Monster.objects.all(), "share": matching_share(queryset, count)}
        number: int | None = page if isinstance(page, int) else None
        if page == "last":
            last_size = per_page if count.is_estimate else count.value % per_page or per_page
            window = keyset_window(queryset, field=field, descending=not descending, size=last_size, **route)
            window.rows.reverse()
            has_next, has_previous = False, window.has_more
            if not count.is_estimate:
                number = max(1, math.ceil(count.value / per_page))
        elif after_key or before_key:
            window = keyset_window(
                queryset, field=field, descending=descending, size=per_page,
                after=after_key, before=before_key, **route,
            )  # fmt: skip
            has_next = window.has_more if after_key or not before_key else True
            has_previous = window.has_more if before_key else True
            if before_key and not window.has_more:
                number = 1
        else:
            offset = (page - 1) * per_page
            window = offset_window(
                queryset,
                field=field,
                descending=descending,
                size=per_page,
                offset=offset,
                share=route["share"],
            )
            has_next, has_previous = window.has_more, page > 1

    rows = window.rows
    return TablePage(
        monsters=rows,
        count=count,
        per_page=per_page,
        number=number,
        next_cursor=_cursor(rows[-1], field) if rows and has_next else None,
        previous_cursor=_cursor(rows[0], field) if rows and has_previous else None,
    )


def _cursor(monster: Monster, field: str) -> str:
    return encode_cursor(getattr(monster, field), monster.pk)
