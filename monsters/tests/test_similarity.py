"""Similar monsters from the database's indexes: exactly the nearest on the standardised fields."""

import numpy as np
import pytest

from monsters.models import Monster
from monsters.services import monsters_seed
from monsters.similarity import FIELDS, monsters_similar, similarity_scales
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db


def brute_force(target: Monster, count: int = 5) -> list[int]:
    rows = list(Monster.objects.exclude(pk=target.pk).values_list("pk", *FIELDS))
    ids = np.array([row[0] for row in rows])
    values = np.array([row[1:] for row in rows], dtype=float)
    scales = np.array([similarity_scales()[field] for field in FIELDS])
    point = np.array([getattr(target, field) for field in FIELDS], dtype=float)
    distance = (((values - point) / scales) ** 2).sum(axis=1)
    order = np.lexsort((ids, distance))
    return ids[order][:count].tolist()


def test_the_five_nearest_are_exactly_those_of_a_full_comparison():
    monsters_seed(count=4_000, seed=21)
    for target in Monster.objects.order_by("?")[:25]:
        assert [m.pk for m in monsters_similar(target)] == brute_force(target)


def test_an_outlier_far_from_everyone_still_gets_its_nearest():
    monsters_seed(count=500, seed=21)
    loner = MonsterFactory(level=20, rank=5, health=1_000_000.0, energy=0.0, sanity=999_999.0)
    assert [m.pk for m in monsters_similar(loner)] == brute_force(loner)


def test_no_other_monster_means_none_similar():
    assert monsters_similar(MonsterFactory()) == []
