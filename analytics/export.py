"""Any table as CSV rows, streamed, with text a spreadsheet would run as a formula made safe.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage
return as a formula (OWASP's "CSV injection").  Such text is written with an
apostrophe in front, which a spreadsheet shows as text; text that already
starts with apostrophes and then one of those gets one more, so an import can
take exactly one apostrophe off every FORMULA_LIKE cell and read each value
back as it was.  Numbers and times are written as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from django.db.models import QuerySet

from bandersnatch.db import streaming_reads

FORMULA_CHARACTERS = "=+-@\t\r"
FORMULA_LIKE = re.compile(f"'*[{re.escape(FORMULA_CHARACTERS)}]")
_MAY_BE_FORMULA_LIKE = frozenset("'" + FORMULA_CHARACTERS)  # a cheap first test of a cell
CHUNK_ROWS = 5_000


def spreadsheet_safe(text: str) -> str:
    """`text` as the export writes it: with an apostrophe in front when it is FORMULA_LIKE."""
    return "'" + text if FORMULA_LIKE.match(text) else text


def csv_rows(queryset: QuerySet, columns: tuple[str, ...], text_columns: tuple[str, ...]) -> Iterator[tuple]:
    """The header, then one tuple per row, read in chunks as they are consumed.

    However many rows there are, neither Python nor PostgreSQL keeps a copy of
    the result: a server-side cursor, in a transaction that lasts as long as
    the download (bandersnatch.db.streaming_reads).
    """
    yield columns
    text_positions = [columns.index(column) for column in text_columns]
    with streaming_reads():
        for row in queryset.values_list(*columns).iterator(chunk_size=CHUNK_ROWS):
            for position in text_positions:
                value = row[position]
                if value is not None and value[:1] in _MAY_BE_FORMULA_LIKE:
                    row = tuple(
                        spreadsheet_safe(cell) if index in text_positions and cell is not None else cell
                        for index, cell in enumerate(row)
                    )
                    break
            yield row


class _Echo:
    """A write-only file whose write() hands the line back, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[tuple]) -> Iterator[str]:
    """Each row as a line of CSV text, for a streaming response."""
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows)
