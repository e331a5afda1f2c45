"""Reads that build more than a queryset: the data page's table."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max, Min

from bandersnatch.db import time_limited_queries
from bandersnatch.snapshots import snapshot_compute, snapshot_read

from .columns import MONSTER_COLUMNS
from .generator import RARITIES
from .models import SORTABLE_FIELDS, DataVersion, Monster
from .pagination import (
    Count,
    PageNumbers,
    count_rows,
    decode_cursor,
    encode_cursor,
    keyset_window,
    matching_share,
    offset_window,
    table_rows,
)


@dataclass(kw_only=True)
class TablePage(PageNumbers):
    monsters: list[Monster]


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
        route = {
            "unfiltered": Monster.objects.all(),
            "share": matching_share(queryset, count),
            "extremes": matching_extremes(field, filters),
        }
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
            anchors = page_anchors(field) if route["share"] == 1.0 and offset >= ANCHOR_EVERY else None
            window = offset_window(
                queryset, field=field, descending=descending, size=per_page, offset=offset,
                anchors=anchors, **route,
            )  # fmt: skip
            has_next, has_previous = window.has_more, page > 1

    rows = window.rows
    if count.is_estimate and not has_next and not has_previous:  # one page holds them all
        count = Count(len(rows))
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


# The home page's counts ----------------------------------------------------------

COUNTS = "monsters:counts-by-rarity"
INLINE_MAX_ROWS = 2_000_000  # above this a visitor never waits for an exact count


@dataclass
class RarityCounts:
    by_rarity: list[tuple[str, int]]
    is_estimate: bool

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_rarity)


def counts_by_rarity() -> RarityCounts:
    """Monsters per rarity at this data version: counted at once when the table is
    small enough, or else the planner's estimate (labelled) while the job counts them."""
    counts = snapshot_read(COUNTS, DataVersion.current())
    large = connection.vendor == "postgresql" and table_rows(Monster.objects.all()) > INLINE_MAX_ROWS
    if counts is None and large:
        return RarityCounts(list(_estimated_by_rarity().items()), is_estimate=True)
    if counts is None:
        counts = snapshot_compute(COUNTS, DataVersion.current, Monster.objects.count_by_rarity)
    return RarityCounts([(rarity, counts.get(rarity, 0)) for rarity in RARITIES], is_estimate=False)


def counts_by_rarity_refresh() -> None:
    snapshot_compute(COUNTS, DataVersion.current, Monster.objects.count_by_rarity)


def _estimated_by_rarity() -> dict[str, int]:
    """PostgreSQL's own statistics of the rarity column, times its estimate of the rows."""
    rows = table_rows(Monster.objects.all())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
            "WHERE tablename = %s AND attname = 'rarity'",
            [Monster._meta.db_table],
        )
        row = cursor.fetchone()
    share = dict(zip(*row, strict=True)) if row and row[0] else {}
    return {rarity: round(share.get(rarity, 0.0) * rows) for rarity in RARITIES}


# Where a filter's rows lie in each sort order ---------------------------------------

EXTREMES = "monsters:extremes-by-value"
EXTREMES_BY = ("level", "type", "rarity")  # the filters by value
# The sorts that go with level, type and rank (resources and dice grow with level and
# rank; names come from each type's own list).
EXTREMES_OF = tuple(column.name for column in MONSTER_COLUMNS if column.kind != "datetime")


def matching_extremes(field: str, filters: dict) -> tuple | None:
    """The lowest and highest `field` that a row passing `filters` can have, or None if unknown.

    Taken from the extremes of each level, type and rarity at this data
    version (a row of level 10 to 12 has at most the highest sanity of those
    levels), so a walk of the sort's index can start where matching rows may
    begin instead of passing every higher one.
    """
    if field not in EXTREMES_OF or not _values_passing(filters, levels={}):
        return None  # not a sort that goes with them, or no filter by level, type or rarity
    known = snapshot_read(EXTREMES, DataVersion.current())
    if known is None:
        return None
    passing = _values_passing(filters, levels=known["level"])
    low = high = None
    for column, values in passing.items():
        spans = [known[column][value][field] for value in values if value in known[column]]
        if not spans:
            return None  # no row has these values: nothing to bound
        column_low, column_high = min(span[0] for span in spans), max(span[1] for span in spans)
        low = column_low if low is None else max(low, column_low)
        high = column_high if high is None else min(high, column_high)
    to_python = Monster._meta.get_field(field).to_python
    return to_python(low), to_python(high)


def _values_passing(filters: dict, *, levels: dict) -> dict[str, list[str]]:
    """The values of level, type and rarity that `filters` let through (keys as stored)."""
    by_equality = [column for column in EXTREMES_BY if column != "level"]
    passing = {column: [filters[column]] for column in by_equality if filters.get(column)}
    low, high = filters.get("level_min"), filters.get("level_max")
    if low is not None or high is not None:
        passing["level"] = [
            level
            for level in levels
            if (low is None or int(level) >= low) and (high is None or int(level) <= high)
        ]
    return passing


def extremes_refresh() -> None:
    snapshot_compute(EXTREMES, DataVersion.current, _extremes_by_value)


def _extremes_by_value() -> dict:
    """Per value of level, type and rarity: the lowest and highest of each field in EXTREMES_OF."""
    aggregates = {}
    for field in EXTREMES_OF:
        aggregates |= {f"{field}__low": Min(field), f"{field}__high": Max(field)}
    result = {}
    for column in EXTREMES_BY:
        rows = Monster.objects.values(column).annotate(**aggregates).order_by()
        result[column] = {
            str(row[column]): {field: [row[f"{field}__low"], row[f"{field}__high"]] for field in EXTREMES_OF}
            for row in rows
        }
    return result


# Anchors for jumps to deep pages ----------------------------------------------------

ANCHOR_EVERY = 10_000  # a jump walks at most this many index entries past an anchor
ANCHORS_FROM_ROWS = 200_000  # below this a plain OFFSET is fast enough


def _anchors_name(field: str) -> str:
    return f"monsters:page-anchors:{field}"


def page_anchors(field: str) -> dict | None:
    """Every ANCHOR_EVERY-th row's (value, id) in (field, id) order, at this data version, if computed."""
    return snapshot_read(_anchors_name(field), DataVersion.current())


def page_anchors_refresh() -> None:
    if table_rows(Monster.objects.all()) < ANCHORS_FROM_ROWS:
        return
    for field in ("id", *SORTABLE_FIELDS):
        snapshot_compute(_anchors_name(field), DataVersion.current, lambda field=field: _anchors(field))


def _anchors(field: str) -> dict:
    """Hop along the (field, id) index ANCHOR_EVERY rows at a time (index-only: no rows read)."""
    quote = connection.ops.quote_name
    table, column = quote(Monster._meta.db_table), quote(Monster._meta.get_field(field).column)
    keys, rows = [], 0
    with connection.cursor() as cursor:
        while True:
            after = f"WHERE ({column}, id) > (%s, %s)" if keys else ""
            cursor.execute(
                f"SELECT {column}, id FROM {table} {after} ORDER BY {column}, id OFFSET %s LIMIT 1",
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
