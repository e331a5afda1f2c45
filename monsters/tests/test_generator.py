import re

import numpy as np
import pandas as pd
import pytest

from monsters.generator import (
    CLASSES,
    COLORS,
    COLUMNS,
    DICE,
    ELEMENTS,
    NAME_OPTIONS,
    RARITIES,
    TYPES,
    generate_chunks,
    generate_monsters,
)

COUNT = 200_000


@pytest.fixture(scope="module")
def monsters() -> pd.DataFrame:
    return generate_monsters(COUNT, rng=np.random.default_rng(2024))


def test_same_seed_gives_identical_monsters():
    first = generate_monsters(500, rng=np.random.default_rng(7))
    again = generate_monsters(500, rng=np.random.default_rng(7))
    other = generate_monsters(500, rng=np.random.default_rng(8))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_columns_and_size(monsters):
    assert tuple(monsters.columns) == COLUMNS
    assert len(monsters) == COUNT
    assert len(generate_monsters(0, rng=np.random.default_rng())) == 0


def test_negative_count_is_refused():
    with pytest.raises(ValueError):
        generate_monsters(-1, rng=np.random.default_rng())


def test_rank_frequencies_follow_the_triangular_design(monsters):
    expected = {f"Rank {k}": (11 - 2 * k) / 36 for k in range(6)}
    observed = monsters["rarity"].value_counts(normalize=True)
    for rarity, share in expected.items():
        assert observed[rarity] == pytest.approx(share, abs=0.004)


def test_levels_run_1_to_20_most_often_3(monsters):
    level = monsters["level"]
    assert level.min() == 1 and level.max() == 20
    assert level.value_counts().idxmax() == 3
    assert level.mean() == pytest.approx(7.8, abs=0.1)
    # P(level = 20) is the triangle's thin tail: (1/18)^2 of it, about 0.3 %.
    assert (level == 20).mean() < 0.005


def test_types_are_uniform(monsters):
    shares = monsters["type"].value_counts(normalize=True)
    assert set(shares.index) == set(TYPES)
    assert shares.min() > 1 / 6 - 0.005 and shares.max() < 1 / 6 + 0.005


def test_resources_follow_level_times_die_within_rank_plus_one(monsters):
    rank = monsters["rarity"].cat.codes.to_numpy()
    centre = monsters["level"].to_numpy() * DICE[rank]
    for column in ("health", "energy", "sanity"):
        values = monsters[column].to_numpy()
        assert np.all(np.abs(values - centre) <= rank + 1)  # |j| <= k, |u| < 1, then rounding
        assert np.all(values >= 1.0)
        assert np.array_equal(values, np.round(values, 2))
    resources = monsters[["health", "energy", "sanity"]].to_numpy()
    assert resources.mean() == pytest.approx(39.7, abs=0.6)
    assert np.median(resources) == pytest.approx(28.7, abs=1.0)
    # Drawn independently: health and energy of one monster differ.
    assert (monsters["health"] != monsters["energy"]).mean() > 0.9


def test_damage_is_level_d_die_plus_small_bonus(monsters):
    pattern = re.compile(r"^(\d+)d(\d+)(?:\+(\d))?$")
    parsed = monsters["damage"].astype(str).str.extract(pattern)
    assert parsed.notna()[[0, 1]].all().all()
    assert (parsed[0].astype(int) == monsters["level"]).all()
    rank = monsters["rarity"].cat.codes.to_numpy()
    assert (parsed[1].astype(int).to_numpy() == DICE[rank]).all()
    bonus = parsed[2].fillna("0").astype(int)
    assert bonus.between(0, 5).all()
    assert bonus.value_counts(normalize=True)[0] == pytest.approx(11 / 36, abs=0.005)


def test_names_come_from_their_types_lists(monsters):
    allowed = {t: {name for option in NAME_OPTIONS[t] for name in option} for t in TYPES}
    for type_, names in monsters.groupby("type", observed=True)["name"]:
        assert set(names.astype(str)) <= allowed[type_]
    fey = monsters.loc[monsters["type"] == "Fey", "name"].astype(str)
    assert {f"{c} Faerie" for c in COLORS} <= set(fey)
    assert {f"{e} Archfey" for e in ELEMENTS} <= set(fey)
    undead = set(monsters.loc[monsters["type"] == "Undead", "name"].astype(str))
    assert {f"Ghostly {c}" for c in CLASSES} <= undead


def test_succubus_is_three_times_as_common_as_incubus(monsters):
    devilkin = monsters.loc[monsters["type"] == "Devilkin", "name"].astype(str)
    succubi, incubi = (devilkin == "Succubus").sum(), (devilkin == "Incubus").sum()
    assert succubi / incubi == pytest.approx(3, rel=0.1)
    # Each of the six options is equally likely: Succubus-or-Incubus is 1/6.
    assert (succubi + incubi) / len(devilkin) == pytest.approx(1 / 6, abs=0.01)


def test_every_rarity_is_listed():
    assert RARITIES == tuple(f"Rank {k}" for k in range(6))


def test_chunks_add_up_to_the_count():
    sizes = [len(chunk) for chunk in generate_chunks(250, rng=np.random.default_rng(1), chunk_size=100)]
    assert sizes == [100, 100, 50]
