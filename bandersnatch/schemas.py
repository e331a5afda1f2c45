"""API schemas read off a table's column description (bandersnatch.columns): no field list by hand.

A row as the API answers it, the filters of a table page as query
parameters, and one record of inputs as a prediction takes it, each a
pydantic model built once per description.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .columns import RANGED_KINDS, ROW_ID, Column, filter_names

PYTHON_TYPES = {
    "integer": int,
    "number": float,
    "boolean": bool,
    "category": str,
    "text": str,
    "datetime": dt.datetime,
}


def row_schema(name: str, columns: tuple[Column, ...], base: type[BaseModel]) -> type[BaseModel]:
    """A row: its id and every column, None allowed where the column has empty cells."""
    fields = {ROW_ID: (int, ...)}
    for column in columns:
        kind = PYTHON_TYPES[column.kind]
        fields[column.name] = (kind | None, ...) if column.nullable else (kind, ...)
    return create_model(name, __base__=base, **fields)


def filter_schema(name: str, columns: tuple[Column, ...], base: type[BaseModel]) -> type[BaseModel]:
    """A table page's filters as query parameters (named by filter_names), for the docs.

    `base` holds the other parameters (sort, page, a search...); the form of
    the page checks the values.
    """
    fields: dict = {}
    for column in columns:
        for parameter in filter_names(column):
            ranged = parameter.endswith(("_min", "_max")) and column.kind in RANGED_KINDS
            fields[parameter] = (PYTHON_TYPES[column.kind] | None, None) if ranged else (str, "")
    return create_model(name, __base__=base, **fields)


def input_schema(name: str, columns: tuple[Column, ...]) -> type[BaseModel]:
    """One record of inputs, strictly typed within each column's bounds; every field may be left out
    (which are required depends on who reads it, such as a model version's features)."""
    fields: dict = {}
    for column in columns:
        if column.kind in ("integer", "number"):
            kind = int if column.kind == "integer" else float
            extra = {} if column.kind == "integer" else {"allow_inf_nan": False}
            bounded = Annotated[kind, Field(strict=True, ge=column.minimum, le=column.maximum, **extra)]
        elif column.choices:
            bounded = Literal[column.choices]
        else:
            bounded = PYTHON_TYPES[column.kind]
        fields[column.name] = (bounded | None, None)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
