"""Which monster fields the charts can use, and how each is treated."""

from monsters.generator import RARITIES, TYPES

CONTINUOUS = ("health", "energy", "sanity")
DISCRETE = ("level",)  # numeric, but each value is its own bar or row
NUMERIC = (*DISCRETE, *CONTINUOUS)
CATEGORICAL = ("rarity", "type", "damage", "name")
CHART_FIELDS = (*NUMERIC, *CATEGORICAL)
COLOR_FIELDS = ("rarity", "type", "level")
KINDS = ("scatter", "histogram", "box", "density")
# Every field a hover or a sample carries, in display order.
ROW_FIELDS = ("id", "name", "type", "level", "rarity", "damage", "health", "energy", "sanity")
CATEGORY_ORDER = {"rarity": RARITIES, "type": TYPES}
LABELS = {
    "id": "Id", "name": "Name", "type": "Type", "level": "Level", "rarity": "Rarity",
    "damage": "Damage", "health": "Health", "energy": "Energy", "sanity": "Sanity",
}  # fmt: skip


def label(field: str) -> str:
    return LABELS.get(field, field)
