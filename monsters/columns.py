"""The monster table's columns, written once.

The database constraints (models.py), the filter and prediction forms, the
API's schemas and the CSV import take their bounds from here.
"""

from bandersnatch.columns import Column, columns_by_name

from .generator import DAMAGES, MAX_LEVEL, RARITIES, RESOURCES, TYPES

MAX_RESOURCE = 1_000_000.0  # far above any generated monster (at most 246), and finite

MONSTER_COLUMNS = (
    Column("name", "Name", "text", max_length=64),
    Column("type", "Type", "category", choices=TYPES),
    Column("level", "Level", "integer", minimum=1, maximum=MAX_LEVEL),
    Column("rarity", "Rarity", "category", choices=RARITIES),
    # Dice notation "{level}d{die}[+bonus]".  The database checks it with string
    # functions (models.py): 720 choices in a check cost three seconds per million rows.
    Column("damage", "Damage", "category", choices=tuple(DAMAGES), checked_by_table=True),
    *(Column(name, name.capitalize(), "number", minimum=0.0, maximum=MAX_RESOURCE) for name in RESOURCES),
    Column("created_at", "Created", "datetime"),
)
COLUMN = columns_by_name(MONSTER_COLUMNS)
NUMBERS = tuple(column.name for column in MONSTER_COLUMNS if column.is_numeric)  # the level and resources
RESOURCE_NAMES = tuple(column.name for column in MONSTER_COLUMNS if column.kind == "number")
