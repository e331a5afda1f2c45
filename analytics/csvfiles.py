"""Any CSV file as typed columns: its layout found, its kinds guessed, its cells checked.

No database here.  A file is read twice: once for the preview (the first
INFER_ROWS rows give each column's kind), once, streamed in chunks of
CHUNK_ROWS, for the load.  Every cell is converted with whole-column pandas
operations; a cell that does not fit its column's kind is a problem (row,
column, value, why), reported as the first MAX_REPORTED_PROBLEMS and a total,
unless the caller asked for such cells to be made empty.

Accepted: UTF-8 with or without a byte order mark, comma, semicolon or tab
between cells (found from the first lines), quoted cells, and gzip.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bandersnatch.columns import EARLIEST, LATEST, Column, safe_identifiers

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
PREVIEW_ROWS = 20
INFER_ROWS = 10_000
CHUNK_ROWS = 50_000
MAX_REPORTED_PROBLEMS = 100
CATEGORY_MAX_VALUES = 50  # more distinct values than this (in the rows read to infer), or none repeated: text
TEXT_MAX_LENGTH = 1_000
SHOWN_VALUE_MAX_LENGTH = 40
TRUE_WORDS = frozenset({"true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "no", "n"})
_INTEGER = r"[+-]?[0-9]{1,18}"
_DECIMAL_COMMA = r"^([+-]?[0-9]*),([0-9]+(?:[eE][+-]?[0-9]+)?)$"
_SNIFF_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# pandas' message for a row with more cells than the header (lines counted from 1).
_TOO_MANY_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string")


class CsvRejected(Exception):
    """The file cannot be loaded; nothing was written.

    `problems`: the first bad cells as (row, column label, value, why), rows
    numbered as a spreadsheet shows them (the header is row 1); `total`
    counts them all.  Empty for a file that is not a readable CSV at all.
    """

    def __init__(self, message: str, problems: list[tuple[int, str, str, str]] | None = None, total: int = 0):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])
        self.total = max(total, len(self.problems))

    def one_line(self, shown: int = 10) -> str:
        """The message and the first `shown` problems, on one line (commands, job errors)."""
        cells = [f"row {row}, {label}: {value!r}: {why}" for row, label, value, why in self.problems[:shown]]
        more = self.total - len(cells)
        parts = [self.message, "; ".join(cells), f"and {more:,} more" if more > 0 else ""]
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class Layout:
    """How a file is written: compressed or not, the delimiter, the header's cells."""

    compressed: bool
    delimiter: str
    headers: tuple[str, ...]

    @property
    def decimal_comma(self) -> bool:
        """Semicolon files come from spreadsheets that write 1,5 for one and a half."""
        return self.delimiter == ";"


@dataclass
class Preview:
    layout: Layout
    columns: tuple[Column, ...]  # one per header, kinds inferred, names made safe
    rows: list[list[str]] = field(default_factory=list)  # the first PREVIEW_ROWS, as written


class _Counted(io.RawIOBase):
    """A binary file that counts the bytes read from it (the file's own bytes, before gunzip)."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


class Reader:
    """One pass over a file: its decoded bytes, and how many of the file's bytes were read."""

    def __init__(self, file):
        file.seek(0)
        self._counted = _Counted(file)
        buffered = io.BufferedReader(self._counted)
        self.compressed = buffered.peek(2)[:2] == _GZIP_MAGIC
        self.stream = gzip.GzipFile(fileobj=buffered) if self.compressed else buffered

    @property
    def bytes_read(self) -> int:
        return self._counted.bytes_read


def csv_cells(file, *, on_chunk=None) -> tuple[Layout, pd.DataFrame]:
    """Every data row of `file` as strings, for a reader with checks of its own (the monster import):
    the layout found as for any dataset, blank lines dropped, the index each row's record number
    (0 is spreadsheet row 2).  `on_chunk(rows_so_far, bytes_read)` is called after each chunk, as
    csv_chunks does.  CsvRejected for a file that cannot be read."""
    layout = _layout(file)
    reader = Reader(file)
    chunks, rows_read = [], 0
    for chunk in _raw_chunks(file, layout, reader=reader):
        chunks.append(chunk)
        rows_read += len(chunk)
        if on_chunk is not None:
            on_chunk(rows_read, reader.bytes_read)
    if not chunks:
        return layout, pd.DataFrame(columns=range(len(layout.headers)), dtype=str)
    return layout, pd.concat(chunks)


def with_decimal_points(text: pd.Series) -> pd.Series:
    """Numbers written 1,5 (semicolon files) as 1.5; any other text as it is."""
    return text.str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True)


def csv_preview(file) -> Preview:
    """The layout, the inferred columns and the first rows of `file` (a binary file); CsvRejected."""
    layout = _layout(file)
    sample = next(_raw_chunks(file, layout, rows=INFER_ROWS), None)
    if sample is None or sample.empty:
        raise CsvRejected("The file has a header but no rows.")
    names = safe_identifiers(list(layout.headers))
    columns = tuple(
        infer_column(sample.iloc[:, position], name=name, label=label, decimal_comma=layout.decimal_comma)
        for position, (name, label) in enumerate(zip(names, layout.headers, strict=True))
    )
    rows = sample.head(PREVIEW_ROWS).to_numpy().tolist()
    return Preview(layout=layout, columns=columns, rows=rows)


def csv_chunks(
    file, layout: Layout, columns: list[Column | None], *, empty_bad_cells: bool = False, on_chunk=None
) -> Iterator[pd.DataFrame]:
    """The typed rows of `file`, CHUNK_ROWS at a time, one frame column per kept column.

    `columns`: one per header, None for a column left out.  CsvRejected
    after the last chunk if any cell did not fit (unless `empty_bad_cells`),
    so a caller writing the chunks as they come must undo what it wrote.
    `on_chunk(rows_so_far, bytes_read)` is called after each chunk.
    """
    kept = [(position, column) for position, column in enumerate(columns) if column is not None]
    problems: list[tuple[int, str, str, str]] = []
    total, rows_read = 0, 0
    reader = Reader(file)
    for cells in _raw_chunks(file, layout, reader=reader):
        typed = {}
        for position, column in kept:
            values, bad = convert(cells.iloc[:, position], column, decimal_comma=layout.decimal_comma)
            if bad.any():
                if empty_bad_cells:
                    values = values.mask(bad)
                else:
                    total += int(bad.sum())
                    for row in np.flatnonzero(bad)[: MAX_REPORTED_PROBLEMS - len(problems)]:
                        value = cells.iat[row, position]
                        problems.append((int(cells.index[row]) + 2, column.label, shown(value), why(column)))
            typed[column.name] = values
        rows_read += len(cells)
        if on_chunk is not None:
            on_chunk(rows_read, reader.bytes_read)
        if not total:
            yield pd.DataFrame(typed)
    if total:
        problems.sort()
        raise CsvRejected(
            f"{total:,} cell{'s' if total > 1 else ''} did not fit {'its' if total == 1 else 'their'} "
            "column: nothing was loaded.",
            problems[:MAX_REPORTED_PROBLEMS],
            total,
        )
    if rows_read == 0:
        raise CsvRejected("The file has a header but no rows.")


# Kinds ------------------------------------------------------------------------


def infer_column(cells: pd.Series, *, name: str, label: str, decimal_comma: bool = False) -> Column:
    """The kind that fits every non-empty cell: boolean, integer, number, datetime, then category or text."""
    stripped = cells.str.strip()
    present = stripped[stripped != ""]
    nullable = len(present) < len(cells)
    if present.empty:
        return Column(name, label, "text", nullable=True, max_length=TEXT_MAX_LENGTH)
    for kind in ("boolean", "integer", "number", "datetime"):
        probe = Column(name, label, kind)
        if not convert(present, probe, decimal_comma=decimal_comma)[1].any():
            return Column(name, label, kind, nullable=nullable)
    distinct = present.nunique()
    if distinct <= CATEGORY_MAX_VALUES and distinct < len(present):  # a few values, repeated
        return Column(name, label, "category", nullable=nullable)
    return Column(name, label, "text", nullable=nullable, max_length=TEXT_MAX_LENGTH)


def convert(cells: pd.Series, column: Column, *, decimal_comma: bool = False) -> tuple[pd.Series, np.ndarray]:
    """The cells as the column's kind (missing where empty or bad) and where they were bad.

    `decimal_comma`: a number may be written 1,5 (never with a thousands separator).
    """
    cells = cells.fillna("")  # a row with fewer cells than the header
    text = cells.str.strip()
    empty = (text == "").to_numpy()
    if column.kind == "integer":
        valid = text.str.fullmatch(_INTEGER).to_numpy()
        values = pd.Series(pd.array(np.where(valid, text, "0"), dtype="Int64"), index=cells.index).mask(
            ~valid
        )
        bad = ~valid & ~empty
    elif column.kind == "number":
        if decimal_comma:
            text = with_decimal_points(text)
        numbers = pd.to_numeric(text.mask(empty), errors="coerce").astype("float64")
        bad = ~empty & ~np.isfinite(numbers.to_numpy(na_value=np.nan))  # not a number, or infinite
        values = numbers.mask(bad)
    elif column.kind == "boolean":
        lower = text.str.lower()
        true, false = lower.isin(TRUE_WORDS | {"1"}).to_numpy(), lower.isin(FALSE_WORDS | {"0"}).to_numpy()
        values = pd.Series(pd.array(true, dtype="boolean"), index=cells.index).mask(~(true | false))
        bad = ~(true | false) & ~empty
    elif column.kind == "datetime":
        moments = pd.to_datetime(text.mask(empty), utc=True, errors="coerce", format="ISO8601")
        in_range = ((moments >= EARLIEST) & (moments <= LATEST)).to_numpy()
        bad = ~empty & ~in_range
        values = moments.mask(bad).dt.round("us").dt.as_unit("us")
    else:  # category, text
        source = text if column.kind == "category" else cells
        too_long = (source.str.len() > (column.max_length or TEXT_MAX_LENGTH)).to_numpy()
        bad = too_long & ~empty
        values = source.mask(empty | bad)
        values = values.astype(object).where(values.notna(), None)
    return values, np.asarray(bad, dtype=bool)


def why(column: Column) -> str:
    """Why a cell does not fit `column`, in words."""
    return {
        "integer": "Not a whole number.",
        "number": "Not a number.",
        "boolean": "Not true or false (yes/no, 1/0).",
        "datetime": "Not a date or time from 1970 to 2199 (e.g. 2026-12-03 or 2026-12-03T14:30:00).",
    }.get(column.kind, f"Longer than {column.max_length or TEXT_MAX_LENGTH:,} characters.")


def shown(value) -> str:
    """A cell as quoted in a message: on one line, and cut short if long."""
    value = " ".join(str(value if value is not None else "").split())
    return value if len(value) <= SHOWN_VALUE_MAX_LENGTH else value[: SHOWN_VALUE_MAX_LENGTH - 1] + "…"


# Reading ----------------------------------------------------------------------


def _layout(file) -> Layout:
    reader = Reader(file)
    try:
        head = reader.stream.read(_SNIFF_BYTES)
    except (OSError, EOFError):
        raise CsvRejected("The file looks gzip-compressed but cannot be uncompressed.") from None
    if not head.strip():
        raise CsvRejected("The file is empty.")
    if b"\x00" in head:
        raise CsvRejected("This is not a CSV file: it holds binary data.")
    text = _decoded(head, complete=len(head) < _SNIFF_BYTES)
    lines = [line for line in text.splitlines() if line.strip()][:20]
    delimiter = _delimiter(lines)
    header_text = text.lstrip("\ufeff")
    headers = next(csv.reader(io.StringIO(header_text), delimiter=delimiter))
    return Layout(
        compressed=reader.compressed, delimiter=delimiter, headers=tuple(h.strip() for h in headers)
    )


def _decoded(head: bytes, *, complete: bool) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return head[: exc.start].decode("utf-8")
        raise CsvRejected(
            f"The file is not UTF-8 text (byte {exc.start + 1:,} is not UTF-8). "
            'Save it as "CSV UTF-8" and try again.'
        ) from None


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number of cells, more than one."""
    best, best_cells = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines[:-1] or lines, delimiter=delimiter)}
        if len(counts) == 1 and (cells := counts.pop()) > best_cells:
            best, best_cells = delimiter, cells
    return best


def _without_blank_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows but the blank lines (nothing but spaces, not even a delimiter: a row of empty cells
    stays); the index keeps each row's place in the file (record 0 is spreadsheet row 2), so
    messages name the rows a spreadsheet shows."""
    first = cells.iloc[:, 0]
    blank = (first.isna() | (first.fillna("").str.strip() == "")) & cells.iloc[:, 1:].isna().all(axis=1)
    return cells[~blank].fillna("")


def _raw_chunks(file, layout: Layout, *, rows: int | None = None, reader: Reader | None = None):
    """The data rows as strings (header skipped), CHUNK_ROWS at a time (or only the first `rows`).

    Every frame has one column per header: a row with fewer cells gets empty
    ones; a row with more is refused (the header is row 1, as in a spreadsheet).
    """
    reader = reader or Reader(file)
    width = len(layout.headers)
    options = dict(
        sep=layout.delimiter, header=None, skiprows=1, dtype=str, keep_default_na=False, na_filter=False,
        encoding="utf-8-sig", skip_blank_lines=False, engine="c", names=range(width), index_col=False,
    )  # fmt: skip
    try:
        with warnings.catch_warnings():
            # pandas only warns when the first row is the longer one.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            if rows is not None:
                yield _without_blank_rows(pd.read_csv(reader.stream, nrows=rows, **options))
                return
            with pd.read_csv(reader.stream, chunksize=CHUNK_ROWS, **options) as chunks:
                for chunk in chunks:
                    yield _without_blank_rows(chunk)
    except pd.errors.ParserWarning:
        raise CsvRejected(f"Row 2 has more cells than the header's {width}.") from None
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        if match := _TOO_MANY_FIELDS.search(str(exc)):
            _, line, seen = match.groups()
            raise CsvRejected(f"Row {line} has {seen} cells, the header {width}.") from None
        if _OPEN_QUOTE.search(str(exc)):
            raise CsvRejected("A quote is opened and never closed.") from None
        raise CsvRejected(f"The file is not valid CSV: {str(exc).strip()}") from None
    except UnicodeDecodeError:
        raise CsvRejected('The file is not UTF-8 text. Save it as "CSV UTF-8" and try again.') from None
    except (OSError, EOFError):
        raise CsvRejected("The file is compressed but cannot be uncompressed (cut short?).") from None
