"""Figures for /view and the statistics page: built from the selectors, kept until the data change.

The statistics and the default chart are computed off the request path after
every data change (bandersnatch.snapshots) and shared by every process; other
charts are cached in this process for a while.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from bandersnatch.snapshots import FORMAT, snapshot_compute, snapshot_latest, snapshot_read
from monsters.columns import MONSTER_COLUMNS
from monsters.models import DataVersion, Monster

from . import charts, selectors, stats
from .fields import MONSTER_CHART, MONSTER_FIELDS, ChartFields, chart_fields
from .filters import rows_matching
from .pagination import table_rows
from .profile import profile_compute
from .table import dataset_rows

FIGURE_CACHE_SECONDS = 600
STATISTICS = "analytics:statistics"
DEFAULT_FIGURE = "analytics:figure:default"
# Above this many rows a visitor never waits for the statistics: the page shows the
# last ones computed, or says they are being computed.
INLINE_MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class ChartSource:
    """What a table's charts are drawn from: its rows, its chart fields, the version of its data."""

    rows: Callable[[dict], QuerySet]  # the rows the filters keep
    fields: ChartFields
    version: Callable[[], str]  # changes whenever the rows do
    default: dict | None  # the chart a bare page draws; None when nothing can be charted
    precomputed: bool = False  # the default chart is computed after every data change (the monsters')


MONSTERS = ChartSource(
    rows=selectors.matching,
    fields=MONSTER_FIELDS,
    version=lambda: f"monsters:{DataVersion.current()}",
    default=MONSTER_CHART,
    precomputed=True,
)


def dataset_source(dataset) -> ChartSource:
    """The charts of an uploaded dataset: its table's rows, filtered as on its table page."""
    columns = dataset.column_list
    fields = chart_fields(columns)
    return ChartSource(
        rows=lambda filters: rows_matching(dataset_rows(dataset), columns, filters),
        fields=fields,
        version=lambda: f"dataset:{dataset.data_version()}",
        default=default_chart(fields),
    )


def default_chart(fields: ChartFields) -> dict | None:
    """A first chart worth seeing: two numbers as a scatter, else one field's distribution."""
    numeric = (*fields.continuous, *fields.discrete)  # measurements before counts and ids
    colors = fields.colors
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        return {"x": x, "y": y, "color": next(iter(colors), None), "kind": "scatter"}
    first = next(iter((*numeric, *fields.categorical)), None)
    if first is None:
        return None
    color = next((c for c in colors if c != first), None)
    return {"x": first, "y": first, "color": color, "kind": "histogram"}


def figure_for(source: ChartSource, *, x: str, y: str, color: str | None, kind: str, filters: dict) -> dict:
    """The figure dict for one chart, kept until the data change."""
    chosen = {"x": x, "y": y, "color": color, "kind": kind}
    given = sorted((k, v) for k, v in filters.items() if v not in (None, ""))
    if source.precomputed and chosen == source.default and not given:
        return snapshot_compute(DEFAULT_FIGURE, DataVersion.current, _default_figure)
    digest = hashlib.sha256(repr((chosen, given)).encode()).hexdigest()
    key = f"analytics:figure:{source.version()}:{FORMAT}:{digest}"
    figure = cache.get(key)
    if figure is None:
        figure = charts.as_dict(_build(source, **chosen, filters=filters))
        cache.set(key, figure, FIGURE_CACHE_SECONDS)
    return figure


def _default_figure() -> dict:
    return charts.as_dict(_build(MONSTERS, **MONSTER_CHART, filters={}))


def default_figure_refresh() -> None:
    if Monster.objects.exists():
        snapshot_compute(DEFAULT_FIGURE, DataVersion.current, _default_figure)


def _build(source: ChartSource, *, x: str, y: str, color: str | None, kind: str, filters: dict):
    rows, fields = source.rows(filters), source.fields
    if kind == "scatter":
        sample = selectors.sample_rows(
            rows, fields, size=selectors.SCATTER_POINTS, columns=fields.sample_columns(x, y, color)
        )
        total = sample.total
        return charts.scatter_figure(
            sample.rows, x=x, y=y, color=color, total=total.value, estimated=total.is_estimate, fields=fields
        )
    if kind == "histogram":
        return charts.histogram_figure(selectors.histogram_counts(rows, fields, x=x, color=color), fields)
    if kind == "box":
        return charts.box_figure(selectors.box_stats(rows, fields, y=y, x=x, color=color), y=y, fields=fields)
    if kind == "density":
        return charts.density_figure(*selectors.density_counts(rows, fields, x=x, y=y), fields=fields)
    raise ValueError(f"Unknown chart kind {kind!r}.")


@dataclass
class Statistics:
    profile: stats.TableProfile | None  # None: being computed, none to show yet
    figures: dict
    computed_at: object = None
    is_current: bool = True  # False: computed for an earlier version of the data


def statistics() -> Statistics:
    """The statistics page's profile and figures at this data version.

    Precomputed after each change; a table small enough is computed at once
    when the precomputation has not run yet.  A larger one shows the last
    profile computed, labelled as such, while the new one is worked out.
    """
    value = snapshot_read(STATISTICS, DataVersion.current())
    if value is None and table_rows(Monster.objects.all()) > INLINE_MAX_ROWS:
        latest = snapshot_latest(STATISTICS)
        if latest is None:
            return Statistics(profile=None, figures={})
        return Statistics(stats.profile_from_json(latest.value["profile"]), latest.value["figures"],
                          latest.computed_at, is_current=False)  # fmt: skip
    if value is None:
        value = snapshot_compute(STATISTICS, DataVersion.current, _statistics)
    return Statistics(stats.profile_from_json(value["profile"]), value["figures"])


def statistics_refresh() -> None:
    snapshot_compute(STATISTICS, DataVersion.current, _statistics)


def _statistics() -> dict:
    """The monsters' profile (the same as any dataset's) with the exact balance of their classes."""
    profile = profile_compute(Monster.objects.all(), MONSTER_COLUMNS, Monster._meta.db_table)
    if profile.rows:
        profile.class_balance = list(Monster.objects.count_by_rarity().items())  # in rank order
    return {"profile": stats.profile_as_json(profile), "figures": profile_figures(profile)}


def profile_figures(profile: stats.TableProfile, fields: ChartFields = MONSTER_FIELDS) -> dict:
    """The profile's charts by element id: class balance (if any), correlations, each distribution."""
    if not profile.rows:
        return {}
    figures = {}
    if profile.class_balance:
        figures["figure-balance"] = charts.as_dict(charts.class_balance_figure(profile.class_balance))
    if len(profile.correlation.columns) > 1:
        figures["figure-correlation"] = charts.as_dict(charts.correlation_figure(profile.correlation, fields))
    for column in profile.columns:
        if column.distribution:
            figures[f"figure-column-{column.name}"] = charts.as_dict(
                charts.distribution_figure(column, fields=fields)
            )
    return figures
