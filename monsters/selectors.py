"""Reads that build more than a queryset: the data page's table."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Max, Min

from analytics import pagination
from analytics.pagination import anchors_compute, table_rows
from analytics.table import TablePage, filtered_range, table_page
from bandersnatch.columns import ROW_ID, ROW_ID_COLUMN
from bandersnatch.snapshots import snapshot_compute, snapshot_read

from .columns import MONSTER_COLUMNS
from .generator import RARITIES
from .models import SORTABLE_FIELDS, DataVersion, Monster


def monster_table_page(
    *, sort: str = "id", per_page: int = 50, page: int | str = 1, after: str = "", before: str = "", **filters
) -> TablePage:
    """One page of the monster table (analytics.table.table_page), its walks bounded by the extremes of
    the level, type and rarity filtered by (or by the range of ids), its deep jumps started from the
    page anchors."""
    field = sort.lstrip("-")
    if field == ROW_ID:
        extremes = filtered_range(ROW_ID_COLUMN, sort.startswith("-"), filters)
    else:
        extremes = matching_extremes(field, filters)
    return table_page(
        Monster.objects.matching(**filters), unfiltered=Monster.objects.all(), sort=sort, per_page=per_page,
        page=page, after=after, before=before, extremes=extremes, anchors=page_anchors,
    )  # fmt: skip


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


def _anchors_name(field: str) -> str:
    return f"monsters:page-anchors:{field}"


def page_anchors(field: str) -> dict | None:
    """The (field, id) order's page anchors (analytics.pagination) at this data version, if computed."""
    return snapshot_read(_anchors_name(field), DataVersion.current())


def page_anchors_refresh() -> None:
    if table_rows(Monster.objects.all()) < pagination.ANCHORS_FROM_ROWS:
        return
    for field in ("id", *SORTABLE_FIELDS):
        snapshot_compute(
            _anchors_name(field),
            DataVersion.current,
            lambda field=field: anchors_compute(Monster.objects.all(), field),
        )
