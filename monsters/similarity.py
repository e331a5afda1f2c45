"""The monsters most like a given one: nearest neighbours on the standardised numeric fields.

Answered by the database from its own indexes, so every process and host sees the
data as it is now and nothing is built while a visitor waits.  The distance is
Euclidean on each field divided by its standard deviation (precomputed after each
data change).  A box around the monster, small at first, is searched for the
nearest rows; once it holds enough of them, one more search in the box whose half
width is the farthest distance found is exact: anything outside that box is
farther than every row found.
"""

from __future__ import annotations

import math

from django.db.models import F, FloatField, Q, StdDev, Value
from django.db.models.functions import Cast

from bandersnatch.snapshots import snapshot_compute, snapshot_latest, snapshot_read

from .columns import NUMBERS
from .models import DataVersion, Monster

FIELDS = NUMBERS  # the level and the resources
SCALES = "monsters:similarity-scales"
FIRST_RADIUS = 0.002  # in standard deviations: generated monsters crowd in small cubes
GROWTH = 4
MAX_SEARCHES = 12


def monsters_similar(monster: Monster, *, count: int = 5) -> list[Monster]:
    """The `count` monsters nearest to `monster` (itself excluded), nearest first (ties by id)."""
    scales = similarity_scales()
    if scales is None:
        return []
    others = Monster.objects.exclude(pk=monster.pk)
    point = {field: float(getattr(monster, field)) for field in FIELDS}
    distance = sum(
        (
            _squared((Cast(F(field), FloatField()) - Value(point[field])) / Value(scales[field]))
            for field in FIELDS
        ),
        start=Value(0.0),
    )
    ranked = others.annotate(distance=distance).order_by("distance", "pk")
    radius = FIRST_RADIUS
    for _ in range(MAX_SEARCHES):
        found = list(ranked.filter(_box(point, scales, radius))[:count])
        farthest = math.sqrt(found[-1].distance) if len(found) == count else None
        if farthest is not None and farthest <= radius:
            return found
        radius = farthest if farthest is not None else radius * GROWTH
    return list(ranked[:count])  # a monster far from every other: compare with all of them


def _squared(expression):
    return expression * expression


def _box(point: dict, scales: dict, radius: float) -> Q:
    box = Q()
    for field in FIELDS:
        half = radius * scales[field]
        box &= Q(**{f"{field}__gte": point[field] - half, f"{field}__lte": point[field] + half})
    return box


def similarity_scales() -> dict[str, float] | None:
    """Each field's standard deviation (1 where it is 0), for the distance; None with no monsters.

    Precomputed after every data change.  Until the refresh has run, the last
    version's serve (standard deviations barely move when rows come and go),
    so no view waits for them; only a table never measured is measured at once.
    """
    scales = snapshot_read(SCALES, DataVersion.current())
    if scales is None:
        previous = snapshot_latest(SCALES)
        scales = previous.value if previous is not None and previous.value else None
    if scales is None:
        scales = snapshot_compute(SCALES, DataVersion.current, _measured_scales)
    return scales or None


def similarity_scales_refresh() -> None:
    snapshot_compute(SCALES, DataVersion.current, _measured_scales)


def _measured_scales() -> dict[str, float]:
    if Monster.objects.count() < 2:  # no deviation to measure, and nobody to be similar to
        return {}
    deviations = Monster.objects.aggregate(**{field: StdDev(field, sample=True) for field in FIELDS})
    return {field: (value if value and value > 0 else 1.0) for field, value in deviations.items()}
