"""Random monsters, drawn from the design in shared/spec/monster-data.md.

Pure numpy and pandas, no Django: the seed command, the home page card and the
benchmarks all call it, and the same seed always gives the same monsters.
Text columns come back as pandas Categoricals, so a million rows cost a few
small vocabularies plus integer codes (the binary COPY path relies on that).
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

TYPES = ("Demonic", "Devilkin", "Dragon", "Elemental", "Fey", "Undead")
RARITIES = tuple(f"Rank {rank}" for rank in range(6))
DICE = np.array([2, 4, 6, 8, 10, 12])
MAX_LEVEL = 20
MAX_BONUS = 5
COLUMNS = ("name", "type", "level", "rarity", "damage", "health", "energy", "sanity")
RESOURCES = ("health", "energy", "sanity")

COLORS = (
    "Platinum", "Gold", "Silver", "Bronze", "Brass", "Copper", "Black", "Blue",
    "Green", "Red", "White", "Onyx", "Sapphire", "Emerald", "Ruby", "Diamond",
    "Prismatic",
)  # fmt: skip
ELEMENTS = (
    "Lightning", "Flame", "Spore", "Ice", "Steam", "Mud", "Dust", "Smoke", "Magma",
    "Shadow",
)  # fmt: skip
CLASSES = ("Mage", "Guard", "Villager", "Archer", "Knight")


def _each(template: str, words: tuple[str, ...]) -> dict[str, float]:
    """One option of a name list: a template filled by a uniformly drawn word."""
    return {template.format(word): 1 / len(words) for word in words}


# Per type, its options (each equally likely), each a {name: probability} map.
NAME_OPTIONS: dict[str, list[dict[str, float]]] = {
    "Fey": [
        _each("{} Faerie", COLORS),
        _each("{} Spirit", ELEMENTS),
        # "{color or element}": a coin flip between the two lists.
        {
            **{name: p / 2 for name, p in _each("{} Archfey", COLORS).items()},
            **{name: p / 2 for name, p in _each("{} Archfey", ELEMENTS).items()},
        },
    ],
    "Demonic": [
        {"Imp": 1},
        {"Quasit": 1},
        _each("{} Demon", COLORS),
        *({name: 1} for name in ("Hell Hound", "Night Hag", "Nightmare")),
        *({name: 1} for name in ("Hook Horror", "Pit Fiend", "Balor")),
    ],
    "Devilkin": [
        _each("Goblin {}", CLASSES),
        _each("Kobold {}", CLASSES),
        _each("{} Devil", ELEMENTS),
        {"Succubus": 0.75, "Incubus": 0.25},
        {"Pit Lord": 1},
        {"Prince of Fear": 1},
    ],
    "Dragon": [
        _each("{} Wyrmling", COLORS),
        _each("{} Drake", COLORS),
        _each("{} Dragon", COLORS),
        *({name: 1} for name in ("Faerie Dragon", "Pseudodragon", "Wyvern")),
    ],
    "Elemental": [
        _each("{} Mephit", ELEMENTS),
        _each("{} Elemental", ELEMENTS),
        {"Djinni": 1},
        {"Efreeti": 1},
    ],
    "Undead": [
        _each("Zombie {}", CLASSES),
        _each("Skeletal {}", CLASSES),
        _each("Ghostly {}", CLASSES),
        *(
            {name: 1}
            for name in (
                "Ghoul",
                "Banshee",
                "Wraith",
                "Ghast",
                "Wight",
                "Revenant",
                "Mummy",
                "Vampire",
                "Lich",
                "Dracolich",
                "Poltergeist",
                "Death Knight",
                "Mummy Lord",
                "Demilich",
                "Lich King",
            )  # fmt: skip
        ),
    ],
}


def _name_probabilities() -> tuple[list[str], np.ndarray]:
    """Every possible name, and per type the probability of each of them."""
    names = sorted({name for options in NAME_OPTIONS.values() for o in options for name in o})
    position = {name: i for i, name in enumerate(names)}
    table = np.zeros((len(TYPES), len(names)))
    for type_code, type_ in enumerate(TYPES):
        options = NAME_OPTIONS[type_]
        for option in options:
            for name, p in option.items():
                table[type_code, position[name]] += p / len(options)
    return names, table


NAMES, NAME_PROBABILITIES = _name_probabilities()
# What may follow "{level}d" in a damage: a die, then an optional "+{bonus}".
DAMAGE_SUFFIXES = [f"{die}{f'+{bonus}' if bonus else ''}" for die in DICE for bonus in range(MAX_BONUS + 1)]
DAMAGES = [
    f"{level}d{die}" + (f"+{bonus}" if bonus else "")
    for level, die, bonus in product(range(1, MAX_LEVEL + 1), DICE, range(MAX_BONUS + 1))
]


def _triangular_int(rng, low: int, high: int, mode: int, count: int) -> np.ndarray:
    """int(triangular(low, high, mode)) as the original design draws it."""
    return rng.triangular(low, mode, high, size=count).astype(np.int64)


def generate_monsters(count: int, *, rng: np.random.Generator) -> pd.DataFrame:
    """`count` independent monsters as a DataFrame with the columns in COLUMNS."""
    if count < 0:
        raise ValueError("count must be >= 0")
    type_code = rng.integers(0, len(TYPES), size=count)
    level = np.minimum(_triangular_int(rng, 1, 21, 3, count), MAX_LEVEL)
    rank = np.minimum(_triangular_int(rng, 0, 6, 0, count), len(RARITIES) - 1)
    bonus = np.minimum(_triangular_int(rng, 0, 6, 0, count), MAX_BONUS)
    die = DICE[rank]

    def resource() -> np.ndarray:
        jitter = rng.integers(-rank, rank, endpoint=True) + rng.uniform(-1, 1, count)
        return np.round(level * die + jitter, 2)

    name_code = np.empty(count, dtype=np.int64)
    for code in range(len(TYPES)):
        rows = np.flatnonzero(type_code == code)
        name_code[rows] = rng.choice(len(NAMES), size=len(rows), p=NAME_PROBABILITIES[code])

    damage_code = ((level - 1) * len(DICE) + rank) * (MAX_BONUS + 1) + bonus
    return pd.DataFrame(
        {
            "name": pd.Categorical.from_codes(name_code, categories=NAMES),
            "type": pd.Categorical.from_codes(type_code, categories=TYPES),
            "level": level.astype(np.int16),
            "rarity": pd.Categorical.from_codes(rank, categories=RARITIES),
            "damage": pd.Categorical.from_codes(damage_code, categories=DAMAGES),
            "health": resource(),
            "energy": resource(),
            "sanity": resource(),
        }
    )


def generate_chunks(count: int, *, rng: np.random.Generator, chunk_size: int = 100_000):
    """Yield DataFrames of at most `chunk_size` monsters, `count` in all."""
    for start in range(0, count, chunk_size):
        yield generate_monsters(min(chunk_size, count - start), rng=rng)
