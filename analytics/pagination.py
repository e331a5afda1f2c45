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

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import (  # the row comparisons of composite keys
    Tuple,
    TupleGreaterThan,
    TupleGreaterThanOrEqual,
    TupleLessThan,
    TupleLessThanOrEqual,
)
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

# Counts up to this many rows are exact; above it PostgreSQL estimates them.
EXACT_COUNT_LIMIT = 10_000
# A planner estimate above this is taken as it is: counting even EXACT_COUNT_LIMIT rows
# of a large filtered table can read a million rows before it finds them.
TRUSTED_ESTIMATE = 3 * EXACT_COUNT_LIMIT


@dataclass(frozen=True)
class Count:
    value: int
    is_estimate: bool = False


def table_rows(queryset: QuerySet) -> int:
    """About how many rows the queryset's whole table holds (PostgreSQL's statistics; else exact)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.model._default_manager.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        return cursor.fetchone()[0]


def matching_share(queryset: QuerySet, count: Count) -> float:
    """About which share of the table's rows `queryset` keeps: 1.0 unfiltered, 0.0 when few (exact)."""
    if not queryset.query.where:
        return 1.0
    if not count.is_estimate:
        return 0.0
    return min(1.0, count.value / max(table_rows(queryset), 1))


def count_rows(queryset: QuerySet) -> Count:
    """How many rows `queryset` has: exact when small or cheap, else estimated."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return Count(queryset.count())
    estimate = _planner_estimate(queryset)
    if estimate > TRUSTED_ESTIMATE:
        return Count(estimate, is_estimate=True)
    exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if exact <= EXACT_COUNT_LIMIT:
        return Count(exact)
    return Count(max(estimate, EXACT_COUNT_LIMIT + 1), is_estimate=True)


def _planner_estimate(queryset: QuerySet) -> int:
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, such as pk__in=[]
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


@dataclass
class PageNumbers:
    """Where a page of a table stands: its count, its number, the cursors of its links."""

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


def decode_cursor(token: str, field, *, nullable: bool = False) -> tuple[object, int]:
    """The (value, id) in `token`, checked against the model `field`; ValueError if bad.

    `nullable`: the value may be None (a row whose sort column is empty).
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value, pk = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError("Not a valid page cursor.") from exc
    if not isinstance(pk, int) or isinstance(pk, bool) or (value is None and not nullable):
        raise ValueError("Not a valid page cursor.")
    if value is None:
        return None, pk
    try:
        value = field.to_python(value)
    except Exception as exc:  # a ValidationError, or a type the field rejects
        raise ValueError("Not a valid page cursor.") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Not a valid page cursor.")
    return value, pk


def after_row(field: str, descending: bool, value, pk: int, *, inclusive: bool = False) -> Q:
    """Rows after (value, pk) in the order (field, id), both ascending or both descending.

    `inclusive`: the row (value, pk) itself too.

    Written as the row comparison `(field, id) > (value, pk)`, which PostgreSQL
    starts the (field, id) index at, beside `field >= value`, which gives the
    planner its estimate.  (`field > value OR id > pk` makes the index walk pass
    every row of `value` before the cursor.)
    """
    op = "lt" if descending else "gt"
    compare = {
        "lt": TupleLessThan,
        "gt": TupleGreaterThan,
        "lte": TupleLessThanOrEqual,
        "gte": TupleGreaterThanOrEqual,
    }
    row_after = compare[f"{op}e" if inclusive else op](Tuple(F(field), F("pk")), (value, pk))
    return Q(**{f"{field}__{op}e": value}) & Q(row_after)


@dataclass
class Window:
    rows: list
    has_more: bool


# When a filter keeps at least this share of the rows, walking the sort column's
# index meets matching rows soon enough, correlated or not: the non-matching ones
# it can pass are at most the rest.  Below it, a filter correlated with the sort
# (a high level, sorted by health) can leave the walk passing most of the table,
# so the walk only gets a short try before the matching rows are fetched through
# the filter's own index and sorted.
WALK_SHARE = 0.8
PROBE_MARGIN = 4  # the try walks this many times the rows a filter uncorrelated with the sort needs
PROBE_MAX_ROWS = 20_000
LONG_WALK_SHARE = 0.1  # of the matching rows: a walk of a row costs about ten of the fallback's sorted rows
FIRST_PAGES_OFFSET = 1_000  # jumps up to this offset are routed like next links


def keyset_window(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    size: int,
    after=None,
    before=None,
    unfiltered: QuerySet | None = None,
    share: float = 1.0,
    extremes: tuple | None = None,
    nullable: bool = False,
) -> Window:
    """Up to `size` rows in (field, id) order after the cursor `after`, or before `before`.

    `has_more` tells whether rows remain beyond the window in the walking
    direction.  `unfiltered`: the same table without the filters of
    `queryset`, and `share`: about which share of its rows match them (see
    WALK_SHARE).  `extremes`: the lowest and highest `field` a matching row
    can have, if known: every walk starts there.  `nullable`: the field has
    empty cells, which come after every value ascending (before, descending).
    """
    backwards = before is not None
    walk = _rows_with_empties if nullable else _rows_after
    rows = walk(
        queryset, field=field, descending=descending != backwards, count=size + 1,
        cursor=before if backwards else after, unfiltered=unfiltered, share=share, extremes=extremes,
    )  # fmt: skip
    window = rows[:size]
    return Window(rows=window[::-1] if backwards else window, has_more=len(rows) > size)


def _rows_after(queryset, *, field, descending, count, cursor, unfiltered, share, extremes) -> list:
    """The first `count` rows after `cursor` (a (value, id), or None: from the start) in (field, id) order."""
    if cursor is not None:
        queryset = queryset.filter(after_row(field, descending, *cursor))
        if unfiltered is not None:
            unfiltered = unfiltered.filter(after_row(field, descending, *cursor))
    return _first_rows(queryset, field=field, descending=descending, count=count, unfiltered=unfiltered,
                       share=share, extremes=extremes)  # fmt: skip


def _rows_with_empties(queryset, *, field, descending, count, cursor, unfiltered, share, extremes) -> list:
    """The first `count` rows after `cursor` in (field, id) order, empty cells last (first, descending).

    Two stretches, each walked on its own: the rows with a value, by the
    (field, id) index as any column; the empty ones, by id.  A cursor whose
    value is None lies among the empty ones.
    """
    present, empty = {f"{field}__isnull": False}, {f"{field}__isnull": True}

    def values(after, needed: int) -> list:
        table = unfiltered.filter(**present) if unfiltered is not None else None
        return _rows_after(queryset.filter(**present), field=field, descending=descending, count=needed,
                           cursor=after, unfiltered=table, share=share, extremes=extremes)  # fmt: skip

    def empties(after, needed: int) -> list:
        rows = queryset.filter(**empty)
        if after is not None:
            rows = rows.filter(pk__lt=after[1]) if descending else rows.filter(pk__gt=after[1])
        return list(rows.order_by("-pk" if descending else "pk")[:needed])

    stretches = [empties, values] if descending else [values, empties]
    start = 0 if cursor is None else stretches.index(empties if cursor[0] is None else values)
    rows: list = []
    for position in range(start, len(stretches)):
        rows += stretches[position](cursor if position == start else None, count - len(rows))
        if len(rows) >= count:
            break
    return rows


def _ordering(field: str, descending: bool, nullable: bool = False) -> list:
    sign = "-" if descending else ""
    if nullable:  # empty cells last ascending, first descending, on every database (as PostgreSQL's index)
        key = F(field).desc(nulls_first=True) if descending else F(field).asc(nulls_last=True)
        return [key, f"{sign}pk"]
    return [f"{sign}{field}", f"{sign}pk"]


def _unindexed_ordering(field: str, descending: bool) -> list:
    """The same order, written so the planner cannot walk the sort index: it fetches, then sorts.

    COALESCE(x, x) is x, but no index is on it.
    """
    key = Coalesce(F(field), F(field))
    key = key.desc(nulls_first=True) if descending else key.asc(nulls_last=True)
    return [key, "-pk" if descending else "pk"]


def _first_rows(queryset, *, field, descending, count, unfiltered, share, extremes=None) -> list:
    """The first `count` rows of `queryset` in (field, id) order, by the cheapest safe route."""
    ordering = _ordering(field, descending)
    queryset = _from_extremes(queryset, field, descending, extremes)
    if unfiltered is None or share >= WALK_SHARE or connections[queryset.db].vendor != "postgresql":
        return list(queryset.order_by(*ordering)[:count])
    if share > 0:  # 0: so few match that fetching them all is cheaper than any walk
        unfiltered = _from_extremes(unfiltered, field, descending, extremes)
        for probe in _probes(count, share, unfiltered):
            # The walk's end: the probe-th row of the table in this order, read off the index alone.
            # Bounded by it, the walk reads at most `probe` rows whichever index the planner takes.
            end = list(unfiltered.order_by(*ordering).values_list(field, "pk")[probe - 1 : probe])
            walked = queryset
            if end:
                walked = queryset.filter(after_row(field, not descending, *end[0], inclusive=True))
            rows = list(walked.order_by(*ordering)[:count])
            if len(rows) == count or not end:  # the first matches lie within the rows walked
                return rows
    # Only ids go through the sort (narrow rows sort faster), then the rows are read by id.
    sorted_ids = queryset.order_by(*_unindexed_ordering(field, descending)).values_list("pk", flat=True)
    ids = list(sorted_ids[:count])
    found = queryset.model._default_manager.in_bulk(ids)
    return [found[pk] for pk in ids]


def _from_extremes(queryset: QuerySet, field: str, descending: bool, extremes: tuple | None) -> QuerySet:
    """`queryset` from where its rows can begin in this order (no matching row lies before it)."""
    if extremes is None:
        return queryset
    return queryset.filter(**{f"{field}__lte": extremes[1]} if descending else {f"{field}__gte": extremes[0]})


def _probes(count: int, share: float, unfiltered: QuerySet) -> list[int]:
    """How many rows the walk tries before the matching rows are fetched and sorted.

    A short try, as many rows as an uncorrelated filter needs (at most
    PROBE_MAX_ROWS); then, for a filter that keeps many rows, a long one:
    sorting them all costs about as much as walking a LONG_WALK_SHARE of them.
    """
    short = min(PROBE_MAX_ROWS, math.ceil(PROBE_MARGIN * count / share))
    long = int(share * table_rows(unfiltered) * LONG_WALK_SHARE)
    return [short, long] if long > 4 * short else [short]


def offset_window(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    size: int,
    offset: int,
    share: float = 1.0,
    anchors: dict | None = None,
    unfiltered: QuerySet | None = None,
    extremes: tuple | None = None,
    nullable: bool = False,
) -> Window:
    """`size` rows from `offset` in (field, id) order, skipping over ids only.

    The inner query can be an index-only scan of the (field, id) index, so deep
    pages skip index entries instead of whole rows; with `anchors` (the whole
    table's every n-th row, see selectors.page_anchors) it starts from the
    nearest one instead of the first row.  A filter that keeps less than
    WALK_SHARE of the rows is sorted after its rows are fetched instead, but
    for the first pages, which get the short walk first (as keyset_window).
    `extremes` and `nullable`, as in keyset_window.
    """
    ordering = _ordering(field, descending, nullable)
    if (share < WALK_SHARE or nullable) and unfiltered is not None and offset <= FIRST_PAGES_OFFSET:
        walk = _rows_with_empties if nullable else _rows_after
        rows = walk(queryset, field=field, descending=descending, count=offset + size + 1, cursor=None,
                    unfiltered=unfiltered, share=share, extremes=extremes)  # fmt: skip
        return Window(rows=rows[offset : offset + size], has_more=len(rows) > offset + size)
    walk = ordering if share >= WALK_SHARE else _unindexed_ordering(field, descending)
    skipped = queryset if nullable else _from_extremes(queryset, field, descending, extremes)
    skipped = skipped.order_by(*walk)
    if anchors is not None:
        skipped, offset = _from_anchor(skipped, anchors, field=field, descending=descending, offset=offset)
    ids = list(skipped.values_list("pk", flat=True)[offset : offset + size + 1])
    rows = list(queryset.model._default_manager.filter(pk__in=ids[:size]).order_by(*ordering))
    return Window(rows=rows, has_more=len(ids) > size)


def _from_anchor(queryset: QuerySet, anchors: dict, *, field: str, descending: bool, offset: int):
    """The unfiltered walk started at the anchor nearest before `offset`, and the offset left from it.

    Anchor k is the row at ascending position (k + 1) * every - 1.  Walking
    down, the anchor at or above the page's first row is the start.
    """
    every, keys, rows = anchors["every"], anchors["keys"], anchors["rows"]
    position = rows - 1 - offset if descending else offset  # the first row's ascending position
    if descending:
        index = -(-(position + 1) // every) - 1  # the anchor at or after the position
        if index >= len(keys):
            return queryset, offset
        left = (index + 1) * every - 1 - position
    else:
        index = (position + 1) // every - 1  # the anchor at or before the position
        if index < 0:
            return queryset, offset
        left = position - ((index + 1) * every - 1)
    value, pk = keys[index]
    value = queryset.model._meta.get_field(field).to_python(value)
    return queryset.filter(after_row(field, descending, value, pk, inclusive=True)), left


# Anchors for jumps to deep pages ----------------------------------------------------

ANCHOR_EVERY = 10_000  # a jump walks at most this many index entries past an anchor
ANCHORS_FROM_ROWS = 200_000  # below this a plain OFFSET is fast enough


def anchors_compute(queryset: QuerySet, field: str) -> dict:
    """Every ANCHOR_EVERY-th row's (value, id) in (field, id) order, for offset_window.

    Hops along the (field, id) index ANCHOR_EVERY rows at a time (index-only: no rows read).
    """
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    model = queryset.model
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    keys = []
    with connection.cursor() as cursor:
        while True:
            after = f"WHERE ({column}, id) > (%s, %s)" if keys else ""
            cursor.execute(
                f"SELECT {column}, id FROM {table} {after} ORDER BY {column}, id LIMIT 1 OFFSET %s",
                [*(keys[-1] if keys else []), ANCHOR_EVERY - 1],
            )
            row = cursor.fetchone()
            if row is None:
                break
            keys.append(list(row))
        after = f"WHERE ({column}, id) > (%s, %s)" if keys else ""
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} {after} LIMIT %s) AS tail",
            [*(keys[-1] if keys else []), ANCHOR_EVERY],
        )
        rows = len(keys) * ANCHOR_EVERY + cursor.fetchone()[0]
    keys = [[value.isoformat() if isinstance(value, dt.datetime) else value, pk] for value, pk in keys]
    return {"rows": rows, "every": ANCHOR_EVERY, "keys": keys}
