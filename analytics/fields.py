"""Which monster fields the charts can use, and how each is treated."""

from monsters.columns import MONSTER_COLUMNS

CONTINUOUS = tuple(column.name for column in MONSTER_COLUMNS if column.kind == "number")
DISCRETE = tuple(column.name for column in MONSTER_COLUMNS if column.kind == "integer")  # a bar per value
NUMERIC = (*DISCRETE, *CONTINUOUS)
# The rarity first: it is what the models predict.
CATEGORICAL = (
    "rarity",
    *(c.name for c in MONSTER_COLUMNS if c.kind in ("category", "text") and c.name != "rarity"),
)
CHART_FIELDS = (*NUMERIC, *CATEGORICAL)
COLOR_FIELDS = ("rarity", "type", "level")
KINDS = ("scatter", "histogram", "box", "density")
# Every field a hover or a sample carries, in display order.
ROW_FIELDS = ("id", *(column.name for column in MONSTER_COLUMNS if column.kind != "datetime"))
# A category's own order (its choices), where it has a few: rank order for the rarity.
CATEGORY_ORDER = {c.name: c.choices for c in MONSTER_COLUMNS if c.kind == "category" and len(c.choices) <= 12}
LABELS = {"id": "Id", **{column.name: column.label for column in MONSTER_COLUMNS}}


def label(field: str) -> str:
    return LABELS.get(field, field)
