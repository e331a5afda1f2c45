"""Figures for /view: the selector for the kind, the chart builder, a cache."""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from monsters.models import DataVersion

from . import charts, selectors, stats

FIGURE_CACHE_SECONDS = 600
PROFILE_CACHE_SECONDS = 24 * 3600  # the key changes with the data anyway


def figure_for(*, x: str, y: str, color: str | None, kind: str, filters: dict) -> dict:
    """The figure dict for one chart, cached until the data change."""
    chosen = (x, y, color, kind, sorted((k, v) for k, v in filters.items() if v not in (None, "")))
    key = f"analytics:figure:{DataVersion.current()}:{hashlib.sha256(repr(chosen).encode()).hexdigest()}"
    figure = cache.get(key)
    if figure is None:
        figure = charts.as_dict(_build(x=x, y=y, color=color, kind=kind, filters=filters))
        cache.set(key, figure, FIGURE_CACHE_SECONDS)
    return figure


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


def statistics() -> dict:
    """The statistics page's profile and its figures by element id, cached until the data change."""
    key = f"analytics:statistics:{DataVersion.current()}"
    result = cache.get(key)
    if result is None:
        profile = stats.table_profile(selectors.raw_profile())
        result = {"profile": profile, "figures": {}}
        if profile.rows:
            result["figures"] = {
                "figure-balance": charts.as_dict(charts.class_balance_figure(profile.class_balance)),
                "figure-correlation": charts.as_dict(charts.correlation_figure(profile.correlation)),
                **{
                    f"figure-column-{column.name}": charts.as_dict(charts.distribution_figure(column))
                    for column in profile.columns
                    if column.distribution
                },
            }
        cache.set(key, result, PROFILE_CACHE_SECONDS)
    return result
