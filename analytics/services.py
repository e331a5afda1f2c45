"""Figures for /view and the statistics page: built from the selectors, kept until the data change.

The statistics and the default chart are computed off the request path after
every data change (bandersnatch.snapshots) and shared by every process; other
charts are cached in this process for a while.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from bandersnatch.snapshots import snapshot_compute, snapshot_latest, snapshot_read
from monsters.models import DataVersion, Monster
from monsters.pagination import table_rows

from . import charts, selectors, stats

FIGURE_CACHE_SECONDS = 600
STATISTICS = "analytics:statistics"
DEFAULT_FIGURE = "analytics:figure:default"
DEFAULT_CHART = {"x": "level", "y": "health", "color": "rarity", "kind": "scatter"}
# Above this many rows a visitor never waits for the statistics: the page shows the
# last ones computed, or says they are being computed.
INLINE_MAX_ROWS = 2_000_000


def figure_for(*, x: str, y: str, color: str | None, kind: str, filters: dict) -> dict:
    """The figure dict for one chart, kept until the data change."""
    chosen = {"x": x, "y": y, "color": color, "kind": kind}
    given = sorted((k, v) for k, v in filters.items() if v not in (None, ""))
    if chosen == DEFAULT_CHART and not given:
        return snapshot_compute(DEFAULT_FIGURE, DataVersion.current, _default_figure)
    digest = hashlib.sha256(repr((chosen, given)).encode()).hexdigest()
    key = f"analytics:figure:{DataVersion.current()}:{digest}"
    figure = cache.get(key)
    if figure is None:
        figure = charts.as_dict(_build(**chosen, filters=filters))
        cache.set(key, figure, FIGURE_CACHE_SECONDS)
    return figure


def _default_figure() -> dict:
    return charts.as_dict(_build(**DEFAULT_CHART, filters={}))


def default_figure_refresh() -> None:
    if Monster.objects.exists():
        snapshot_compute(DEFAULT_FIGURE, DataVersion.current, _default_figure)


def _build(*, x: str, y: str, color: str | None, kind: str, filters: dict):
    if kind == "scatter":
        sample = selectors.sample_rows(selectors.matching(filters), size=selectors.SCATTER_POINTS)
        return charts.scatter_figure(
            sample.rows, x=x, y=y, color=color, total=sample.total.value, estimated=sample.total.is_estimate
        )
    if kind == "histogram":
        return charts.histogram_figure(selectors.histogram_counts(filters, x=x, color=color))
    if kind == "box":
        return charts.box_figure(selectors.box_stats(filters, y=y, x=x, color=color), y=y)
    if kind == "density":
        return charts.density_figure(*selectors.density_counts(filters, x=x, y=y))
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
    profile = stats.table_profile(selectors.raw_profile())
    return {"profile": stats.profile_as_json(profile), "figures": profile_figures(profile)}


def profile_figures(profile: stats.TableProfile) -> dict:
    """The profile's charts by element id: class balance (if any), correlations, each distribution."""
    if not profile.rows:
        return {}
    figures = {}
    if profile.class_balance:
        figures["figure-balance"] = charts.as_dict(charts.class_balance_figure(profile.class_balance))
    if len(profile.correlation.columns) > 1:
        figures["figure-correlation"] = charts.as_dict(charts.correlation_figure(profile.correlation))
    for column in profile.columns:
        if column.distribution:
            figures[f"figure-column-{column.name}"] = charts.as_dict(charts.distribution_figure(column))
    return figures
