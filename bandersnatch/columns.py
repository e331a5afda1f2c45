"""How a table's columns are described: what each holds and which values it takes.

Pure Python, no Django, so every app (and the generator) can read it.  A
table's columns are written once in this form; the database constraints, the
forms, the API schemas and the import checks all take their bounds from it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

KINDS = ("integer", "number", "boolean", "category", "text", "datetime")
NUMERIC_KINDS = ("integer", "number")
RANGED_KINDS = (*NUMERIC_KINDS, "datetime")  # kinds whose values have a least and a greatest
# Characters no text cell may hold: C0 controls (tab, newline, carriage return...) and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The times a datetime column takes unless it says otherwise: wide enough for any
# real record, narrow enough that every database and Python represent them.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Column:
    """One column: a safe identifier, a label, a kind, and the values it takes.

    `minimum` and `maximum` are inclusive (numbers, or datetimes for a
    datetime column); `choices` lists a category's values; `max_length`
    bounds a text.  Text never holds control characters and is never blank
    (only spaces).  `checked_by_table`: the table's own constraint checks the
    column instead of the generic one (where that is much cheaper per row).
    """

    name: str
    label: str
    kind: str
    nullable: bool = False
    minimum: float | dt.datetime | None = None
    maximum: float | dt.datetime | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    checked_by_table: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if self.kind == "datetime":
            object.__setattr__(self, "minimum", self.minimum or EARLIEST)
            object.__setattr__(self, "maximum", self.maximum or LATEST)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def bounds_text(self) -> str:
        """The allowed values in words, for messages."""
        if self.choices:
            if len(self.choices) > 12:
                return f"one of the {len(self.choices)} allowed values"
            return f"one of {', '.join(self.choices)}"
        if self.kind == "integer":
            return f"a whole number from {self.minimum:,} to {self.maximum:,}"
        if self.kind == "number":
            return f"a number from {format_number(self.minimum)} to {format_number(self.maximum)}"
        if self.kind == "datetime":
            return f"a time from {self.minimum:%Y-%m-%d} to {self.maximum:%Y-%m-%d}"
        if self.kind == "text":
            return f"text of 1 to {self.max_length} characters, without control characters"
        return "true or false"

    def problem(self, value) -> str | None:
        """Why `value` (already of the column's Python type) does not fit, or None when it does."""
        if value is None:
            return None if self.nullable else "Required."
        if self.kind == "number" and (isinstance(value, bool) or not math.isfinite(value)):
            return f"Must be {self.bounds_text}."
        if self.kind in ("text", "category"):
            if self.choices and value not in self.choices:
                return f"Must be {self.bounds_text}."
            if not value.strip(" ") or CONTROL_CHARACTERS.search(value):
                return f"Must be {self.bounds_text}."
            if self.max_length is not None and len(value) > self.max_length:
                return f"Longer than {self.max_length} characters."
            return None
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            return f"Must be {self.bounds_text}."
        return None


def format_number(value: float) -> str:
    """A bound as people write it: 1,000,000 rather than 1e+06 or 1000000.0."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def format_percent(share: float) -> str:
    """A share (an accuracy, say) as every page shows it: 96.67 %."""
    return f"{share * 100:.2f} %"


def columns_by_name(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {column.name: column for column in columns}


def column_to_dict(column: Column) -> dict:
    """A column as JSON can hold it (times in ISO 8601), for a dataset's stored description."""
    data = {"name": column.name, "label": column.label, "kind": column.kind, "nullable": column.nullable}
    for bound in ("minimum", "maximum"):
        value = getattr(column, bound)
        if value is not None and not (column.kind == "datetime" and value in (EARLIEST, LATEST)):
            data[bound] = value.isoformat() if isinstance(value, dt.datetime) else value
    if column.choices:
        data["choices"] = list(column.choices)
    if column.max_length is not None:
        data["max_length"] = column.max_length
    if column.checked_by_table:
        data["checked_by_table"] = True
    return data


def column_from_dict(data: dict) -> Column:
    """The inverse of column_to_dict."""
    options = dict(data)
    if options.get("kind") == "datetime":
        for bound in ("minimum", "maximum"):
            if isinstance(options.get(bound), str):
                options[bound] = dt.datetime.fromisoformat(options[bound])
    options["choices"] = tuple(options.get("choices", ()))
    return Column(**options)


# Identifiers ------------------------------------------------------------------

IDENTIFIER_MAX_LENGTH = 48  # PostgreSQL keeps 63 bytes; room for an index name around it
ROW_ID = "id"  # every dataset table's own row id
# The row id as a column, for the one filter every table page takes on it: a range of
# ids (id_min, id_max), which is where the rows a load just added are shown.
ROW_ID_COLUMN = Column(ROW_ID, "Id", "integer", minimum=1, maximum=2**63 - 1)
# Words that cannot name a column unquoted in PostgreSQL or SQLite (their reserved
# keywords), and names a dataset table or Django already uses for something else.
RESERVED_WORDS = frozenset(
    """
    abort action add all alter analyse analyze and any array as asc asymmetric authorization between
    binary both case cast check collate collation column concurrently constraint create cross
    current_catalog current_date current_role current_schema current_time current_timestamp
    current_user default deferrable delete desc distinct do drop else end except exists false fetch
    for foreign freeze from full glob grant group having ilike in index initially inner insert
    intersect into is isnull join lateral leading left like limit localtime localtimestamp match
    natural not notnull null offset on only or order outer overlaps pk placing primary references
    regexp returning right select session_user similar some symmetric table tablesample then to
    trailing true union unique update user using values variadic verbose when where window with
    """.split()
)


def safe_identifiers(headers: list[str]) -> list[str]:
    """A safe, distinct column name for each header, in order.

    Lower-case ASCII letters, digits and single underscores, starting with a
    letter and never ending with an underscore (Django's lookups split on
    "__"), at most IDENTIFIER_MAX_LENGTH characters: accents are taken off
    ("Größe" -> "grosse"), anything else becomes "_", a reserved word or the
    row id gets "_column" after it, an empty header becomes
    "column_<position>", and a repeated one "<name>_2", "<name>_3"...
    """
    names: list[str] = []
    taken: set[str] = set()
    for position, header in enumerate(headers, start=1):
        base = _identifier(header) or f"column_{position}"
        if base in RESERVED_WORDS or base == ROW_ID:
            base = f"{base}_column"
        name, copy = base, 1
        while name in taken:
            copy += 1
            suffix = f"_{copy}"
            name = base[: IDENTIFIER_MAX_LENGTH - len(suffix)].rstrip("_") + suffix
        taken.add(name)
        names.append(name)
    return names


def _identifier(text: str) -> str:
    folded = unicodedata.normalize("NFKD", str(text).replace("ß", "ss"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if name and not name[0].isalpha():
        name = f"c_{name}"
    return name[:IDENTIFIER_MAX_LENGTH].rstrip("_")


def filter_names(column: Column) -> list[str]:
    """The GET parameters filtering `column` on a table page: `<column>` equals (categories,
    booleans), `_min` / `_max` (numbers, times), `_contains` (text), `_empty` (nullable columns)."""
    names = []
    if column.kind in ("category", "boolean"):
        names.append(column.name)
    elif column.kind in RANGED_KINDS:
        names += [f"{column.name}_min", f"{column.name}_max"]
    else:
        names.append(f"{column.name}_contains")
    if column.nullable:
        names.append(f"{column.name}_empty")
    return names
