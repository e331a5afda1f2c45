"""The JSON API of the datasets: the ones you may see, their columns, their rows page by page."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from bandersnatch.db import QueryTimedOut, time_limited_queries

from .filters import table_form
from .models import Dataset
from .profile import dataset_profile
from .table import dataset_table_page

router = Router(tags=["datasets"])


class Error(Schema):
    message: str


class ColumnOut(Schema):
    name: str
    label: str
    kind: str
    nullable: bool
    choices: list[str] | None = None


class DatasetOut(Schema):
    slug: str
    name: str
    description: str
    owner: str | None
    is_public: bool
    is_builtin: bool
    row_count: int | None  # None for the built-in dataset: its rows change without a reload
    column_count: int
    updated_at: dt.datetime


class DatasetDetail(DatasetOut):
    columns: list[ColumnOut]


class RowsPage(Schema):
    count: int
    count_is_estimate: bool
    page: int | None
    results: list[dict]
    next: str | None
    previous: str | None


def page_body(request: HttpRequest, page, results: list) -> dict:
    """A table page as the API answers it: its count, number, rows and `next` / `previous` links."""
    return {
        "count": page.count.value,
        "count_is_estimate": page.count.is_estimate,
        "page": page.number,
        "results": results,
        "next": page_link(request, page=page.next_number, after=page.next_cursor)
        if page.next_cursor
        else None,
        "previous": (
            page_link(request, page=page.previous_number, before=page.previous_cursor)
            if page.previous_cursor
            else None
        ),
    }


def page_link(request: HttpRequest, **changes) -> str:
    """This request's URL with other page parameters: a `next` or `previous` link."""
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def _visible(request: HttpRequest, slug: str) -> Dataset:
    dataset = Dataset.objects.visible_to(request.user).select_related("owner").filter(slug=slug).first()
    if dataset is None:
        raise HttpError(404, f"No dataset {slug!r}.")
    return dataset


def _summary(dataset: Dataset) -> dict:
    return {
        "slug": dataset.slug, "name": dataset.name, "description": dataset.description,
        "owner": dataset.owner.get_username() if dataset.owner else None, "is_public": dataset.is_public,
        "is_builtin": dataset.is_builtin, "row_count": None if dataset.is_builtin else dataset.row_count,
        "column_count": len(dataset.columns), "updated_at": dataset.updated_at,
    }  # fmt: skip


@router.get("", response=list[DatasetOut], summary="The datasets you may see")
def dataset_list(request: HttpRequest):
    """The built-in monsters first, then the public ones, your own, and (staff) every one."""
    return [_summary(dataset) for dataset in Dataset.objects.visible_to(request.user).select_related("owner")]


@router.get("/{slug}", response={200: DatasetDetail, 404: Error}, summary="One dataset and its columns")
def dataset_detail(request: HttpRequest, slug: str):
    dataset = _visible(request, slug)
    columns = [
        {
            "name": c.name,
            "label": c.label,
            "kind": c.kind,
            "nullable": c.nullable,
            "choices": list(c.choices) or None,
        }
        for c in dataset.column_list
    ]
    return {**_summary(dataset), "columns": columns}


@router.get(
    "/{slug}/rows", response={200: RowsPage, 400: Error, 404: Error, 503: Error}, summary="Rows, paged"
)
def dataset_rows_page(request: HttpRequest, slug: str):
    """The table page's parameters: `sort`, `page`, `per_page`, and per column `<column>`,
    `<column>_min`, `<column>_max`, `<column>_contains`, `<column>_empty`; follow `next` and `previous`."""
    dataset = _visible(request, slug)
    columns = dataset.column_list
    form = table_form(columns)(request.GET)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise HttpError(400, f"{name}: {errors[0]}" if name != "__all__" else errors[0])
    known = {name for name in form.fields}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise HttpError(400, f"Unknown parameters: {', '.join(unknown)}.")
    try:
        page = dataset_table_page(dataset, **form.page_options())
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    except QueryTimedOut:
        return Status(503, {"message": "The query took too long; narrow the filters."})
    names = ["id", *(column.name for column in columns)]
    return page_body(request, page, [{name: getattr(row, name) for name in names} for row in page.rows])


class ColumnProfileOut(Schema):
    name: str
    kind: str
    count: int
    nulls: int
    distinct: int | None
    distinct_is_estimate: bool
    minimum: float | int | dt.datetime | None
    maximum: float | int | dt.datetime | None
    mean: float | None
    std: float | None
    quartiles: list[float] | None
    top: list[tuple[str, int]] | None


class ProfileOut(Schema):
    rows: int
    sampled_from: int | None
    columns: list[ColumnProfileOut]


@router.get(
    "/{slug}/profile", response={200: ProfileOut, 404: Error, 503: Error}, summary="Statistics per column"
)
def dataset_profile_api(request: HttpRequest, slug: str):
    """Per column: kind, count, true nulls, distinct, min, max, mean, std, quartiles, top values.

    Exact but for quartiles, distinct and top values, which above 100,000 rows come from a sample
    (`sampled_from` says of how many rows; distinct counts are then the database's estimates).
    """
    dataset = _visible(request, slug)
    try:
        with time_limited_queries():
            profile = dataset_profile(dataset)
    except QueryTimedOut:
        return Status(503, {"message": "The statistics took too long to compute; try again in a moment."})
    columns = [
        {**vars(column), "mean": _finite(column.mean), "std": _finite(column.std),
         "top": [(str(value), count) for value, count in column.top] if column.top else None}
        for column in profile.columns
    ]  # fmt: skip
    return {"rows": profile.rows, "sampled_from": profile.sampled_from, "columns": columns}


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value
