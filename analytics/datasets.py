"""Datasets from CSV files: checked, loaded all or nothing, indexed, registered.

A load reads the file twice: the preview's pass decides the columns (kinds
inferred, or as the user chose), the second streams the rows in chunks into
a new table inside one transaction: PostgreSQL COPY, batched INSERTs on
SQLite.  A bad cell anywhere rolls the whole transaction back, the table and
the registry row with it.  After the rows: each column's nullability and a
category's values as the data have them, then the indexes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from bandersnatch.columns import KINDS, Column, column_to_dict, safe_identifiers

from .csvfiles import CATEGORY_MAX_VALUES, TEXT_MAX_LENGTH, CsvRejected, Preview, csv_chunks, csv_preview
from .models import Dataset
from .tables import indexes_build, row_model, table_create, table_drop, table_vacuum

logger = logging.getLogger(__name__)

SQLITE_BATCH_ROWS = 2_000
RESERVED_SLUGS = frozenset({"new", "monsters"})  # /datasets/new is the upload page
Progress = Callable[[int, int], None]  # (rows loaded, bytes of the file read)


def dataset_preview(file) -> Preview:
    """The preview of an upload, or CsvRejected; limits checked before any reading."""
    _check_size(file)
    preview = csv_preview(file)
    if len(preview.columns) > settings.DATASET_MAX_COLUMNS:
        raise CsvRejected(
            f"The file has {len(preview.columns):,} columns; "
            f"at most {settings.DATASET_MAX_COLUMNS} are allowed."
        )
    return preview


def columns_chosen(preview: Preview, choices: list[dict] | None) -> list[Column | None]:
    """The preview's columns as the user changed them: per column {"keep", "kind", "label"}.

    Labels become the column names (made safe and distinct again); None
    marks a column left out.  ValueError names a choice that cannot be.
    """
    if choices is None:
        return list(preview.columns)
    if len(choices) != len(preview.columns):
        raise ValueError(f"Expected a choice for each of the {len(preview.columns)} columns.")
    kept = [
        (column, (choice.get("label") or "").strip() or column.label, choice.get("kind") or column.kind)
        for column, choice in zip(preview.columns, choices, strict=True)
        if choice.get("keep", True)
    ]
    if not kept:
        raise ValueError("Keep at least one column.")
    for column, _, kind in kept:
        if kind not in KINDS:
            raise ValueError(f"Unknown kind {kind!r} for {column.label!r}.")
    names = safe_identifiers([label for _, label, _ in kept])
    chosen = iter(
        Column(name, label, kind, nullable=True, max_length=TEXT_MAX_LENGTH if kind == "text" else None)
        for name, (_, label, kind) in zip(names, kept, strict=True)
    )
    return [next(chosen) if choice.get("keep", True) else None for choice in choices]


def dataset_create(
    *,
    file,
    name: str,
    owner=None,
    is_public: bool = False,
    description: str = "",
    choices: list[dict] | None = None,
    empty_bad_cells: bool = False,
    progress: Progress | None = None,
) -> Dataset:
    """A new dataset holding the rows of `file` (a binary file: CSV, maybe gzip), all or nothing.

    CsvRejected for a file that cannot be loaded (nothing is written);
    ValueError for a choice that cannot be.
    """
    started = time.perf_counter()
    preview = dataset_preview(file)
    columns = columns_chosen(preview, choices)
    source_name = os.path.basename(getattr(file, "name", "") or "")
    with transaction.atomic():
        dataset = Dataset.objects.create(
            name=name.strip() or source_name or "Dataset", slug=_free_slug(name or source_name),
            owner=owner, is_public=is_public, description=description, source_name=source_name,
            table=f"dataset_pending_{timezone.now():%Y%m%d%H%M%S%f}",
        )  # fmt: skip
        dataset.table = f"dataset_{dataset.pk}"
        rows, final = _filled(dataset.table, file, preview, columns, empty_bad_cells, progress)
        dataset.columns = [column_to_dict(column) for column in final]
        dataset.row_count = rows
        dataset.save()
    table_vacuum(dataset.table)
    logger.info(
        "Loaded dataset %s: %d rows, %d columns in %.2f s",
        dataset.slug,
        rows,
        len(final),
        time.perf_counter() - started,
    )
    return dataset


def dataset_replace(
    dataset: Dataset, *, file, empty_bad_cells: bool = False, progress: Progress | None = None
) -> Dataset:
    """Replace every row of `dataset` with those of `file`, which must have the same columns.

    All or nothing, and readers never wait: the rows go into a new table,
    which takes the old one's place in the transaction that drops it.
    CsvRejected names the columns that differ, or the cells that do not fit.
    """
    if dataset.is_builtin:
        raise ValueError(f"{dataset.name} is built in: its rows come from its own loads.")
    preview = dataset_preview(file)
    columns = _same_columns(preview, dataset.column_list)
    old_table = dataset.table
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)  # one replacement at a time
        new_table = f"dataset_{dataset.pk}_{timezone.now():%Y%m%d%H%M%S%f}"
        rows, final = _filled(new_table, file, preview, columns, empty_bad_cells, progress)
        order = [column.name for column in dataset.column_list]
        final = sorted(final, key=lambda column: order.index(column.name))  # the dataset's order
        table_drop(old_table)
        dataset.table, dataset.row_count, dataset.updated_at = new_table, rows, timezone.now()
        dataset.generation += 1  # read under the lock above
        dataset.columns = [column_to_dict(column) for column in final]
        dataset.source_name = os.path.basename(getattr(file, "name", "") or "") or dataset.source_name
        dataset.save()
    table_vacuum(dataset.table)
    logger.info("Replaced the rows of dataset %s: %d rows", dataset.slug, rows)
    return dataset


def replacement_check(dataset: Dataset, file) -> None:
    """CsvRejected unless `file` can replace the dataset's rows (readable, the same columns)."""
    _same_columns(dataset_preview(file), dataset.column_list)


def _same_columns(preview: Preview, columns: tuple[Column, ...]) -> list[Column]:
    """The dataset's columns in the file's order, or CsvRejected saying which differ.

    A header matches a column by the column's name or by its label (as shown).
    """
    by_key = {column.name: column for column in columns} | {column.label: column for column in columns}
    matched = [by_key.get(found.name) or by_key.get(found.label) for found in preview.columns]
    missing = [column.label for column in columns if column not in matched]
    extra = [found.label for found, column in zip(preview.columns, matched, strict=True) if column is None]
    if missing or extra:
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"new {', '.join(extra)}" if extra else "",
        ]
        raise CsvRejected(
            "The file must have the dataset's columns: " + "; ".join(part for part in parts if part) + "."
        )
    return matched


def _filled(table: str, file, preview: Preview, columns: list[Column | None], empty_bad_cells, progress):
    """Create `table`, load the file into it, settle its columns as loaded, build its indexes.

    In the caller's transaction; the rows and the columns as loaded.
    """
    # Every column may be empty while loading; _as_loaded decides from the rows.
    kept = tuple(replace(column, nullable=True) for column in columns if column is not None)
    model = row_model(table, [column_to_dict(column) for column in kept])
    table_create(model)
    started = time.perf_counter()
    chunks = csv_chunks(file, preview.layout, columns, empty_bad_cells=empty_bad_cells, on_chunk=progress)
    rows = _write(model, kept, chunks)
    written = time.perf_counter()
    final = _as_loaded(model, kept)
    settled = time.perf_counter()
    indexes_build(row_model(table, [column_to_dict(c) for c in final]), final)
    logger.info(
        "Loaded %s: %d rows read, checked and copied in %.2f s, columns settled in %.2f s, indexes %.2f s",
        table, rows, written - started, settled - written, time.perf_counter() - settled,
    )  # fmt: skip
    return rows, final


def _check_size(file) -> None:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
        file.seek(0)
    if size > settings.DATASET_MAX_BYTES:
        raise CsvRejected(
            f"The file is {size / 1e6:,.1f} MB; "
            f"at most {settings.DATASET_MAX_BYTES / 1e6:,.0f} MB are allowed."
        )


def _free_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "dataset"
    taken = set(Dataset.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | RESERVED_SLUGS
    slug, copy = base, 1
    while slug in taken:
        copy += 1
        slug = f"{base}-{copy}"
    return slug


# Writing ------------------------------------------------------------------------


def _write(model, columns: tuple[Column, ...], chunks: Iterable[pd.DataFrame]) -> int:
    write = _copy_chunk if connection.vendor == "postgresql" else _insert_chunk
    rows = 0
    for chunk in chunks:
        write(model, columns, chunk)
        rows += len(chunk)
    return rows


def _copy_chunk(model, columns: tuple[Column, ...], chunk: pd.DataFrame) -> None:
    """COPY in CSV format, written by Arrow: every value quoted, so only an empty unquoted field is NULL."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.name) for column in columns)
    buffer = io.BytesIO()
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    buffer.seek(0)
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        cursor.copy_expert(sql, buffer, 1 << 20)


def _insert_chunk(model, columns: tuple[Column, ...], chunk: pd.DataFrame) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.name) for column in columns)
    marks = ", ".join("%s" for _ in columns)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"
    values = []
    for column in columns:
        series = chunk[column.name]
        field = model._meta.get_field(column.name)
        if column.kind == "datetime":
            items = [None if pd.isna(v) else v.to_pydatetime() for v in series]
        else:
            items = [None if v is None or v is pd.NA or v != v else v for v in series.tolist()]
        values.append([None if v is None else field.get_db_prep_save(v, connection) for v in items])
    rows = list(zip(*values, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SQLITE_BATCH_ROWS):
            cursor.executemany(sql, rows[start : start + SQLITE_BATCH_ROWS])


def _as_loaded(model, columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """The columns as the loaded rows have them: nullable only where a cell is empty, a category's values.

    On PostgreSQL the columns without an empty cell become NOT NULL, in one
    ALTER TABLE (one scan of the table).
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    counts = ", ".join(f"count({quote(column.name)})" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), {counts} FROM {table}")
        total, *present = cursor.fetchone()
    final = []
    for column, filled in zip(columns, present, strict=True):
        choices: tuple[str, ...] = ()
        if column.kind == "category":
            present_values = model.objects.exclude(**{f"{column.name}__isnull": True}).order_by(column.name)
            values = present_values.values_list(column.name, flat=True).distinct()[: CATEGORY_MAX_VALUES + 1]
            choices = tuple(values) if len(values) <= CATEGORY_MAX_VALUES else ()
        final.append(
            Column(
                column.name,
                column.label,
                column.kind,
                nullable=filled < total,
                choices=choices,
                max_length=column.max_length,
            )  # fmt: skip
        )
    required = [column.name for column in final if not column.nullable]
    if required and total and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {quote(n)} SET NOT NULL" for n in required)
            )
    return tuple(final)


def dataset_builtin_register(
    *, slug: str, name: str, table: str, columns: tuple[Column, ...], description: str
) -> Dataset:
    """Record (or bring up to date) a dataset an app ships with, public, with no owner."""
    dataset, _ = Dataset.objects.update_or_create(
        slug=slug,
        defaults={
            "name": name, "table": table, "description": description, "is_builtin": True, "is_public": True,
            "owner": None, "columns": [column_to_dict(column) for column in columns],
        },
    )  # fmt: skip
    return dataset


def dataset_delete(dataset: Dataset) -> None:
    """Drop the dataset's table and forget it, together; the built-in dataset stays."""
    if dataset.is_builtin:
        raise ValueError(f"{dataset.name} is built in and cannot be deleted.")
    with transaction.atomic():
        table_drop(dataset.table)
        dataset.delete()
    logger.info("Deleted dataset %s (table %s)", dataset.slug, dataset.table)


UPLOADS_DIR = "uploads"  # in default_storage: files between their preview and their load
UPLOAD_KEEP = dt.timedelta(days=1)  # a preview left this long is not coming back


def upload_store(file) -> str:
    """Keep an upload until its load (which deletes it); uploads left over a day are deleted first."""
    if default_storage.exists(UPLOADS_DIR):
        cutoff = timezone.now() - UPLOAD_KEEP
        for name in default_storage.listdir(UPLOADS_DIR)[1]:
            path = f"{UPLOADS_DIR}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                logger.info("Deleted the upload %s, left since before %s", path, cutoff)
    return default_storage.save(f"{UPLOADS_DIR}/{uuid.uuid4().hex}", file)
