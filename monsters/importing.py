"""Monsters from an uploaded CSV file: every row checked first, then all written or none.

The file is read as any dataset's (analytics.csvfiles.csv_cells); the checks
here are the monster table's own constraints, and the rows go in through the
monster load (monsters.loading), which appends or swaps in a new table.

The columns are the export's (/data/export.csv), so an export imports back
unchanged: the apostrophe the export puts in front of text a spreadsheet
would run as a formula (analytics.export.spreadsheet_safe) comes off again.  The
rule, exactly: a text cell (name, type, rarity, damage) that starts with an
apostrophe followed by FORMULA_LIKE text (apostrophes, then =, +, -, @, a
tab or a carriage return) loses that first apostrophe; every other cell is
read as it is.  The checks run on whole columns with pandas and mirror the table's
constraints, so 100,000 rows are judged in well under a second and the
database never has to refuse a row halfway through.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import DataError, IntegrityError
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from analytics.csvfiles import CsvRejected, Layout, csv_cells, with_decimal_points
from analytics.export import FORMULA_LIKE
from analytics.filters import rows_between
from bandersnatch.audit import audit_record
from bandersnatch.columns import CONTROL_CHARACTERS
from bandersnatch.models import AuditEntry

from .columns import COLUMN
from .generator import DAMAGE_SUFFIXES, DICE, MAX_BONUS, RARITIES, RESOURCES, TYPES
from .loading import LoadBusy, LoadConflict, monsters_load
from .models import Monster
from .services import EXPORT_COLUMNS, EXPORT_TEXT_COLUMNS, data_version_bump

logger = logging.getLogger(__name__)

MODES = ("append", "replace")
MAX_REPORTED_ERRORS = 100
WRITE_CHUNK_ROWS = 50_000  # the monsters written between two reports of progress
OPTIONAL_COLUMNS = ("created_at",)  # missing (or an empty cell): the time of the import
IGNORED_COLUMNS = ("id",)  # the database gives new ids
REQUIRED_COLUMNS = tuple(column for column in EXPORT_COLUMNS if column not in OPTIONAL_COLUMNS)
NAME_MAX_LENGTH = COLUMN["name"].max_length
RESOURCE = COLUMN[RESOURCES[0]]  # every resource has the same bounds
CREATED_AT = COLUMN["created_at"]
SHOWN_VALUE_MAX_LENGTH = 40
COLUMNS_HELP = (
    f"The columns are the export's: {', '.join(REQUIRED_COLUMNS)}, and optionally created_at "
    "(an id column is ignored)."
)
# The apostrophe the export adds in front of FORMULA_LIKE text.
_EXPORT_APOSTROPHE = re.compile(f"^'(?={FORMULA_LIKE.pattern})")

REQUIRED = "Required."
NOT_A_NUMBER = 'Not a number: "{value}".'
BAD_NAME_LENGTH = f"Longer than {NAME_MAX_LENGTH} characters."
BAD_TYPE = f'Unknown type "{{value}}": use one of {", ".join(TYPES)}.'
BAD_RARITY = f'Unknown rarity "{{value}}": use one of {", ".join(RARITIES)}.'
LEVEL = COLUMN["level"]
BAD_LEVEL = f"Must be {LEVEL.bounds_text}."
BAD_NAME_CHARACTERS = "Holds a control character (a tab or a line break, say)."
BAD_RESOURCE = f"Must be {RESOURCE.bounds_text}."
BAD_DAMAGE = 'Not dice notation: "{value}" (expected e.g. 8d6 or 8d6+2).'
BAD_DIE = (
    f'Unknown die or bonus in "{{value}}": the die is one of {", ".join(map(str, DICE))}, '
    f"the bonus +1 to +{MAX_BONUS}."
)
BAD_DICE_COUNT = 'The number of dice in "{value}" must equal the level.'
BAD_CREATED_AT = 'Not a date and time: "{value}" (expected e.g. 2026-11-24 12:00:00+00:00).'
BAD_CREATED_AT_RANGE = f"Must be {CREATED_AT.bounds_text}."
MESSAGES = (
    "", REQUIRED, NOT_A_NUMBER, BAD_NAME_LENGTH, BAD_TYPE, BAD_RARITY, BAD_LEVEL, BAD_RESOURCE,
    BAD_DAMAGE, BAD_DIE, BAD_DICE_COUNT, BAD_CREATED_AT, BAD_NAME_CHARACTERS, BAD_CREATED_AT_RANGE,
)  # fmt: skip


class ImportRejected(Exception):
    """The file was refused and nothing was written.

    `message` says why in a sentence.  For bad cells `errors` holds the first
    MAX_REPORTED_ERRORS as (row, column, message), rows numbered as a
    spreadsheet shows them (the header is row 1), and `total` counts them all;
    for a file that is no CSV of monsters at all, `errors` is empty.
    """

    def __init__(self, message: str, errors: list[tuple[int, str, str]] | None = None, total: int = 0):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])
        self.total = max(total, len(self.errors))

    def one_line(self, shown: int = 10) -> str:
        """The message and the first `shown` bad cells, on one line (a job's error)."""
        cells = [f"row {row}, {column}: {message}" for row, column, message in self.errors[:shown]]
        more = self.total - len(cells)
        parts = [self.message, "; ".join(cells), f"and {more:,} more" if cells and more > 0 else ""]
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class MonstersImported:
    """What an import added: how many monsters, and their ids, one unbroken run."""

    count: int
    first_id: int
    last_id: int

    @property
    def table_url(self) -> str:
        """The data page showing exactly these monsters."""
        return f"{reverse('monsters:data')}?{rows_between(self.first_id, self.last_id)}"


def monsters_import_csv(
    *,
    file,
    mode: str,
    actor=None,
    wait: float | None = None,
    file_name: str = "",
    on_read: Callable[[int, int], None] | None = None,
    on_written: Callable[[int, int], None] | None = None,
) -> MonstersImported:
    """Add the monsters of a CSV file, after emptying the table if `mode` is "replace".

    All or nothing: one bad cell rejects the whole file (ImportRejected) before
    anything is written, and the rows, the data version and the audit entry
    share one transaction.  Text the export made spreadsheet-safe reads back
    as it was (the rule is in the module docstring).  `file`: a binary file
    such as an upload; `file_name` the name its user knows it by (default:
    its own).  `actor`: the user who asked (None: a command).  `wait`:
    seconds to wait for another load to finish (then ImportRejected; None:
    as long as it takes).  Progress: `on_read(rows, bytes_read)` while the
    file is read, then `on_written(monsters, of_monsters)` as they are
    written, from 0.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    started = time.perf_counter()
    monsters = _checked_monsters(*_read_cells(file, on_read))
    file_name = file_name or getattr(file, "name", None) or "a file"
    count = len(monsters)
    last_id = []  # the highest id once the rows are in, read in their transaction

    def chunks() -> Iterator[pd.DataFrame]:
        if on_written is not None:
            on_written(0, count)
        for start in range(0, count, WRITE_CHUNK_ROWS):
            yield monsters.iloc[start : start + WRITE_CHUNK_ROWS]
            if on_written is not None:
                on_written(min(start + WRITE_CHUNK_ROWS, count), count)

    def record() -> None:
        data_version_bump(replaced=mode == "replace")
        imported = f"{count:,} monsters from {file_name}"
        replaced = f"Replaced every monster with {imported}"
        audit_record(
            action=AuditEntry.Action.IMPORT,
            summary=replaced if mode == "replace" else f"Imported {imported}",
            actor=actor,
            rows=count,
            mode=mode,
            file=file_name,
        )
        last_id.append(Monster.objects.aggregate(last=Max("pk"))["last"])

    try:
        monsters_load(chunks(), rows=count, replace=mode == "replace", record=record, wait=wait)
    except (IntegrityError, DataError) as exc:
        # The checks mirror the constraints, so this is a gap in them: refuse, don't crash.
        logger.exception("The database refused an import the checks had passed")
        raise ImportRejected(f"The database refused the file: {exc}".strip()) from exc
    except (LoadBusy, LoadConflict) as exc:
        raise ImportRejected(str(exc)) from exc
    logger.info("Imported %d monsters (%s) in %.2f s", count, mode, time.perf_counter() - started)
    # One load writes at a time and its rows take the next ids in order (a replace restarts them at 1).
    return MonstersImported(count=count, first_id=last_id[0] - count + 1, last_id=last_id[0])


def _read_cells(file, on_read=None) -> tuple[Layout, pd.DataFrame]:
    """The file read as any dataset's is (analytics.csvfiles: encoding, delimiter, quotes, gzip,
    blank lines, rows numbered as a spreadsheet shows them): its layout and every row's cells."""
    try:
        return csv_cells(file, on_chunk=on_read)
    except CsvRejected as exc:
        raise ImportRejected(exc.message) from None


def _checked_monsters(layout: Layout, cells: pd.DataFrame) -> pd.DataFrame:
    """The data rows as typed columns, ready to write; ImportRejected names every bad cell.

    Text and level columns hold few distinct values (six types, a few hundred
    damages), so their checks run once per distinct value and are spread to
    the rows by the value's code: no Python call per cell.
    """
    header = [str(cell).strip().lower() for cell in layout.headers]
    _check_header(header)
    rows = cells.set_axis(header, axis="columns")
    rows.index += 2  # spreadsheet row numbers: the header is row 1, the first record row 2
    rows = rows[~(rows == "").all(axis="columns")]  # empty lines, as spreadsheets leave at the end
    if rows.empty:
        raise ImportRejected("The file has a header but no monsters.")
    rows = rows.assign(
        **{
            column: rows[column].str.replace(_EXPORT_APOSTROPHE, "", regex=True)
            for column in EXPORT_TEXT_COLUMNS
        }
    )
    problems: dict[str, np.ndarray] = {}  # per column, each row's index in MESSAGES (0: fine)
    monsters: dict[str, np.ndarray | pd.Series] = {}

    codes, names = _distinct(rows["name"], strip=False)
    problems["name"] = _problems(
        (names.str.strip(" ") == "", REQUIRED),
        (names.str.contains(CONTROL_CHARACTERS.pattern, regex=True), BAD_NAME_CHARACTERS),
        (names.str.len() > NAME_MAX_LENGTH, BAD_NAME_LENGTH),
    )[codes]
    monsters["name"] = names.to_numpy()[codes]
    for column, known, unknown in (("type", TYPES, BAD_TYPE), ("rarity", RARITIES, BAD_RARITY)):
        codes, values = _distinct(rows[column])
        problems[column] = _problems((values == "", REQUIRED), (~values.isin(known), unknown))[codes]
        monsters[column] = values.to_numpy()[codes]

    codes, values = _distinct(rows["level"])
    number = pd.to_numeric(values.to_numpy(), errors="coerce").astype(np.float64)
    valid = (number >= LEVEL.minimum) & (number <= LEVEL.maximum) & (number == np.floor(number))
    problems["level"] = _problems(
        (values == "", REQUIRED), (np.isnan(number), NOT_A_NUMBER), (~valid, BAD_LEVEL)
    )[codes]
    level_ok = valid[codes]
    monsters["level"] = np.where(valid, number, 0).astype(np.int16)[codes]

    # "{level}d{die}" or "{level}d{die}+{bonus}", exactly as the table's constraint has it.
    codes, values = _distinct(rows["damage"])
    parts = pd.Series(values).str.partition("d")
    dice_count, d, suffix = parts[0], parts[1], parts[2]
    # The count as a number when written as the constraint writes a level (no leading 0), else -1.
    count = pd.to_numeric(dice_count.where(dice_count.str.fullmatch("[1-9][0-9]?"), "-1")).to_numpy()
    not_dice = (d != "d") | ~dice_count.str.fullmatch("[0-9]+") | (suffix == "")
    problems["damage"] = _problems(
        ((values == "")[codes], REQUIRED),
        (not_dice.to_numpy()[codes], BAD_DAMAGE),
        (~suffix.isin(DAMAGE_SUFFIXES).to_numpy()[codes], BAD_DIE),
        (level_ok & (count[codes] != monsters["level"]), BAD_DICE_COUNT),
    )
    monsters["damage"] = values.to_numpy()[codes]

    for column in RESOURCES:
        text = with_decimal_points(rows[column].str.strip()) if layout.decimal_comma else rows[column]
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        problems[column] = _problems(
            ((text == "").to_numpy(), REQUIRED),
            (np.isnan(number), NOT_A_NUMBER),
            (~((number >= RESOURCE.minimum) & (number <= RESOURCE.maximum)), BAD_RESOURCE),
        )
        monsters[column] = number

    now = pd.Timestamp(timezone.now())
    if "created_at" in rows:
        text = rows["created_at"].str.strip()
        # Naive times are UTC; microseconds are what both databases keep.
        moment = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        given = (text != "").to_numpy()
        in_range = ((moment >= CREATED_AT.minimum) & (moment <= CREATED_AT.maximum)).to_numpy()
        problems["created_at"] = _problems(
            (given & moment.isna().to_numpy(), BAD_CREATED_AT), (given & ~in_range, BAD_CREATED_AT_RANGE)
        )
        monsters["created_at"] = moment.where(given, now).dt.round("us").dt.as_unit("us")
    else:
        monsters["created_at"] = pd.Series(now, index=rows.index).dt.as_unit("us")

    order = [column for column in EXPORT_COLUMNS if column in problems]
    _reject_bad_cells(pd.DataFrame(problems, index=rows.index)[order], rows)
    return pd.DataFrame(monsters, index=rows.index)[list(EXPORT_COLUMNS)]


def _distinct(cells: pd.Series, *, strip: bool = True) -> tuple[np.ndarray, pd.Index]:
    """Each row's code and the distinct values (stripped of spaces unless `strip` is false)."""
    codes, values = pd.factorize(cells)
    values = pd.Index(values, dtype=object)
    return codes, values.str.strip() if strip else values


def _problems(*checks: tuple[np.ndarray, str]) -> np.ndarray:
    """Per row, the MESSAGES index of the first check that finds a fault (0 when none does)."""
    return np.select(
        [np.asarray(fault, dtype=bool) for fault, _ in checks],
        [MESSAGES.index(message) for _, message in checks],
        0,
    ).astype(np.int8)


def _check_header(header: list[str]) -> None:
    """One sentence for every way the header can be wrong, or nothing."""
    faults = []
    if len(header) == 1 and (separator := next((s for s in ";\t|" if s in header[0]), None)):
        raise ImportRejected(
            f'The cells must be separated by commas; this file seems to use "{separator}". ' + COLUMNS_HELP
        )
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        faults.append(f"Repeated column{'s' if len(repeated) > 1 else ''}: {', '.join(repeated)}.")
    unknown = [
        column or f"(no name, column {position})"
        for position, column in enumerate(header, start=1)
        if column not in EXPORT_COLUMNS and column not in IGNORED_COLUMNS
    ]
    if unknown:
        faults.append(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.")
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        faults.append(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    if faults:
        raise ImportRejected(" ".join([*faults, COLUMNS_HELP]))


def _reject_bad_cells(problems: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Raise ImportRejected with the first bad cells in reading order, if there are any."""
    flagged = problems != 0
    total = int(flagged.to_numpy().sum())
    if not total:
        return
    first = flagged.stack()
    first = first[first].index[:MAX_REPORTED_ERRORS]
    errors = [
        (int(row), column, MESSAGES[problems.at[row, column]].format(value=_shown(rows.at[row, column])))
        for row, column in first
    ]
    raise ImportRejected(
        f"{total:,} problem{'s' if total > 1 else ''} in the file: nothing was imported.", errors, total
    )


def _shown(value: str) -> str:
    """A cell as quoted in a message: on one line, and cut short if long."""
    value = " ".join(value.split())
    return value if len(value) <= SHOWN_VALUE_MAX_LENGTH else value[: SHOWN_VALUE_MAX_LENGTH - 1] + "…"
