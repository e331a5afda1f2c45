"""Paging and counting that stay fast on a million rows.

Exact counts scan every matching row and OFFSET walks past every skipped one,
so on PostgreSQL large counts are the planner's estimate (labelled as such),
next/previous pages continue from the last row seen (keyset pagination on the
(sort field, id) indexes), and a jump to page N reads only ids before joining.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

# Counts up to this many rows are exact; above it PostgreSQL estimates them.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Count:
    value: int
    is_estimate: bool = False


def count_rows(queryset: QuerySet) -> Count:
    """How many rows `queryset` has: exact when small or cheap, else estimated."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return Count(queryset.count())
    exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if exact <= EXACT_COUNT_LIMIT:
        return Count(exact)
    return Count(max(_planner_estimate(queryset), EXACT_COUNT_LIMIT + 1), is_estimate=True)


def _planner_estimate(queryset: QuerySet) -> int:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A Paginator (for the admin) whose count never scans a large table."""

    @cached_property
    def count(self) -> int:
        return count_rows(self.object_list).value


# Keyset cursors: the sort value and id of a row, as an opaque URL-safe token.


def encode_cursor(value, pk: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, field) -> tuple[object, int]:
    """The (value, id) in `token`, checked against the model `field`; ValueError if bad."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value, pk = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError("Not a valid page cursor.") from exc
    if not isinstance(pk, int) or isinstance(pk, bool) or value is None:
        raise ValueError("Not a valid page cursor.")
    try:
        value = field.to_python(value)
    except Exception as exc:  # a ValidationError, or a type the field rejects
        raise ValueError("Not a valid page cursor.") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Not a valid page cursor.")
    return value, pk


def after_row(field: str, descending: bool, value, pk: int) -> Q:
    """Rows after (value, pk) in the order (field, id), both ascending or both descending.

    Written as `field >= value AND (field > value OR id > pk)` so the index range
    starts at `value` (an OR of the two alone makes PostgreSQL scan from the start).
    """
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}e": value}) & (Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": pk}))


@dataclass
class Window:
    rows: list
    has_more: bool


def keyset_window(
    queryset: QuerySet, *, field: str, descending: bool, size: int, after=None, before=None
) -> Window:
    """Up to `size` rows in (field, id) order after the cursor `after`, or before `before`.

    `has_more` tells whether rows remain beyond the window in the walking direction.
    """
    sign = "-" if descending else ""
    ordering = [f"{sign}{field}", f"{sign}pk"]
    if before is not None:
        backwards = [f"{'' if descending else '-'}{field}", f"{'' if descending else '-'}pk"]
        rows = list(
            queryset.filter(after_row(field, not descending, *before)).order_by(*backwards)[: size + 1]
        )
        return Window(rows=rows[:size][::-1], has_more=len(rows) > size)
    if after is not None:
        queryset = queryset.filter(after_row(field, descending, *after))
    rows = list(queryset.order_by(*ordering)[: size + 1])
    return Window(rows=rows[:size], has_more=len(rows) > size)


def offset_window(queryset: QuerySet, *, field: str, descending: bool, size: int, offset: int) -> Window:
    """`size` rows from `offset` in (field, id) order, skipping over ids only.

    The inner query can be an index-only scan of the (field, id) index, so deep
    pages skip index entries instead of whole rows.
    """
    sign = "-" if descending else ""
    ordering = [f"{sign}{field}", f"{sign}pk"]
    ids = list(queryset.order_by(*ordering).values_list("pk", flat=True)[offset : offset + size + 1])
    rows = list(queryset.model._default_manager.filter(pk__in=ids[:size]).order_by(*ordering))
    return Window(rows=rows, has_more=len(ids) > size)
