from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from bandersnatch.access import login_or_token_required
from bandersnatch.db import QueryTimedOut, time_limited_queries
from bandersnatch.jobs import job_follow, job_start
from bandersnatch.models import Job
from monsters.columns import MONSTER_COLUMNS

from . import tasks
from .csvfiles import CsvRejected
from .datasets import dataset_delete, dataset_preview, replacement_check, upload_store
from .export import csv_lines, csv_rows
from .fields import chart_fields
from .filters import rows_matching, table_form, table_query
from .forms import ChartForm, DatasetReplaceForm, DatasetUploadForm, chart_form, preview_form
from .models import Dataset
from .profile import dataset_profile
from .services import MONSTERS, ChartSource, dataset_source, figure_for, profile_figures, statistics
from .suggestions import suggestions_response
from .table import dataset_rows, dataset_table_page


def _with_query(url: str, filters: dict) -> str:
    """`url` with the filters as its query: the rows behind a chart."""
    query = urlencode({key: value for key, value in filters.items() if value not in (None, "")})
    return url + (f"?{query}" if query else "")


@dataclass
class ChartPage:
    """One table's chart page: where its rows, its figures and its row pages are."""

    source: ChartSource
    form_class: type
    title: str
    rows_url: str  # the table page
    figure_url: str  # the figure alone, for the page's script
    row_url: str  # a row's page, with 0 for its id
    columns: tuple  # the table's column description (for the script's bounds)
    dataset: Dataset | None = None


def _monster_chart_page() -> ChartPage:
    return ChartPage(
        source=MONSTERS, form_class=ChartForm, title="View the monsters", rows_url=reverse("monsters:data"),
        figure_url=reverse("analytics:figure"), row_url=reverse("monsters:detail", args=[0]),
        columns=MONSTER_COLUMNS,
    )  # fmt: skip


def _dataset_chart_page(request: HttpRequest, slug: str) -> ChartPage:
    dataset = _visible_dataset(request, slug)
    source = dataset_source(dataset)
    filters = table_form(dataset.column_list, row_ids=False)
    return ChartPage(
        source=source, form_class=chart_form(source.fields, filters, tuple((source.default or {}).items())),
        title=f"Charts of {dataset.name}", rows_url=dataset.get_absolute_url(),
        figure_url=reverse("analytics:dataset-figure", args=[slug]),
        row_url=reverse("analytics:dataset-row", args=[slug, 0]), columns=dataset.column_list,
        dataset=dataset,
    )  # fmt: skip


def _chart(chart_page: ChartPage, form) -> dict:
    with time_limited_queries():
        figure = figure_for(chart_page.source, **form.chart(), filters=form.filters())
    return {"figure": figure, "rows_url": _with_query(chart_page.rows_url, form.filters())}


def _chart_view(request: HttpRequest, chart_page: ChartPage) -> HttpResponse:
    form = chart_page.form_class(request.GET)
    context = {
        "form": form, "page": chart_page, "dataset": chart_page.dataset,
        "has_data": chart_page.source.rows({}).exists(), "can_chart": chart_page.source.default is not None,
        "chart_config": chart_config(chart_page),
    }  # fmt: skip
    if not context["can_chart"]:
        return render(request, "analytics/view.html", context)
    if not form.is_valid():
        return render(request, "analytics/view.html", context, status=400)
    if not context["has_data"]:
        return render(request, "analytics/view.html", context)
    try:
        context.update(_chart(chart_page, form), chart=form.chart())
    except QueryTimedOut:
        return render(request, "analytics/view.html", {**context, "timed_out": True}, status=503)
    return render(request, "analytics/view.html", context)


def chart_config(chart_page: ChartPage) -> dict:
    """What the page's script needs to turn a box drawn on a scatter into the table's filters."""
    fields = chart_page.source.fields
    bounds = {
        column.name: [column.minimum, column.maximum]
        for column in chart_page.columns
        if column.name in fields.numeric and column.minimum is not None and column.maximum is not None
    }
    return {
        "numeric": list(fields.numeric), "whole": list(fields.discrete), "bounds": bounds,
        "rows_url": chart_page.rows_url, "row_url": chart_page.row_url,
    }  # fmt: skip


def _figure_view(request: HttpRequest, chart_page: ChartPage) -> JsonResponse:
    """The figure alone, for the page's script to redraw without a reload."""
    form = chart_page.form_class(request.GET)
    if chart_page.source.default is None:
        return JsonResponse({"message": "This table has no column that can be charted."}, status=400)
    if not form.is_valid():
        errors = {field: [str(e) for e in messages] for field, messages in form.errors.items()}
        field, problems = next(iter(errors.items()))
        label = form.fields[field].label if field in form.fields else None
        return JsonResponse(
            {"message": f"{label}: {problems[0]}" if label else problems[0], "errors": errors}, status=400
        )
    try:
        return JsonResponse(_chart(chart_page, form))
    except QueryTimedOut:
        return JsonResponse(
            {"message": "The chart took too long to compute; narrow the filters."}, status=503
        )


@require_GET
def view(request: HttpRequest) -> HttpResponse:
    return _chart_view(request, _monster_chart_page())


@require_GET
def view_figure(request: HttpRequest) -> JsonResponse:
    return _figure_view(request, _monster_chart_page())


@require_GET
def dataset_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _chart_view(request, _dataset_chart_page(request, slug))


@require_GET
def dataset_view_figure(request: HttpRequest, slug: str) -> JsonResponse:
    return _figure_view(request, _dataset_chart_page(request, slug))


@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    try:
        with time_limited_queries():
            result = statistics()
    except QueryTimedOut:
        return render(request, "analytics/statistics.html", {"timed_out": True}, status=503)
    return render(request, "analytics/statistics.html", {**vars(result), "computing": result.profile is None})


# Datasets -------------------------------------------------------------------------


def _visible_dataset(request: HttpRequest, slug: str) -> Dataset:
    """The dataset if the visitor may see it; 404 otherwise (a private one is not admitted to exist)."""
    return get_object_or_404(Dataset.objects.visible_to(request.user), slug=slug)


@require_GET
def datasets(request: HttpRequest) -> HttpResponse:
    shown = Dataset.objects.visible_to(request.user).select_related("owner")
    return render(request, "analytics/datasets.html", {"datasets": shown})


@require_GET
def dataset_table(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    columns = dataset.column_list
    form = table_form(columns)(request.GET)
    context = {
        "dataset": dataset,
        "columns": columns,
        "form": form,
        "editable": dataset.editable_by(request.user),
    }
    if not form.is_valid():
        return render(request, "analytics/dataset_table.html", context, status=400)
    try:
        page = dataset_table_page(dataset, **form.page_options())
    except ValueError as exc:  # a cursor that does not decode
        form.add_error(None, str(exc))
        return render(request, "analytics/dataset_table.html", context, status=400)
    except QueryTimedOut:
        return render(request, "analytics/dataset_table.html", {**context, "timed_out": True}, status=503)
    if page.past_end:
        return redirect(request.path + table_query(request.GET, page=page.number or "last"))
    numeric = [column.is_numeric for column in columns]
    rows = [(row.pk, list(zip(_values(row, columns), numeric, strict=True))) for row in page.rows]
    context.update(
        page=page, sort=form.cleaned_data["sort"], rows=rows, chips=form.chips(request.GET),
        cleared_query=form.cleared_query(request.GET),
    )  # fmt: skip
    return render(request, "analytics/dataset_table.html", context)


@require_GET
def dataset_suggestions(request: HttpRequest, slug: str) -> JsonResponse:
    """A text filter's suggestions: the column's values containing the text given as `<column>_contains`
    (static/js/suggest.js).  Errors are JSON too, a dataset the visitor may not see included."""
    try:
        dataset = _visible_dataset(request, slug)
    except Http404:
        return JsonResponse({"message": "No such dataset."}, status=404)
    columns = dataset.column_list
    names = [f"{column.name}_contains" for column in columns if column.kind == "text"]
    given = [name for name in names if name in request.GET]
    if len(given) != 1:
        listed = ", ".join(names) or "none: this table has no text column"
        return JsonResponse({"message": f"Give one text filter of this table: {listed}."}, status=400)
    name = given[0]
    form = table_form(columns)({name: request.GET[name]})
    every_row = dataset_rows(dataset)
    return suggestions_response(
        form,
        name,
        lambda text: rows_matching(every_row, columns, {name: text}),
        name.removesuffix("_contains"),
    )


@require_GET
def dataset_row(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    row = get_object_or_404(dataset_rows(dataset), pk=pk)
    columns = dataset.column_list
    fields = list(zip(columns, _values(row, columns), strict=True))
    return render(request, "analytics/dataset_row.html", {"dataset": dataset, "row": row, "fields": fields})


def _values(row, columns) -> list:
    """A row's values in column order."""
    return [getattr(row, column.name) for column in columns]


UPLOADS = "analytics.uploads"  # session key: the files waiting between their preview and their load


@login_required
@require_http_methods(["GET", "POST"])
def dataset_new(request: HttpRequest) -> HttpResponse:
    """Choose a file; on POST it is stored and previewed: the first rows and each column's kind."""
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "max_bytes": settings.DATASET_MAX_BYTES}
    if request.method == "GET" or not form.is_valid():
        return render(request, "analytics/dataset_new.html", context, status=400 if form.errors else 200)
    upload = form.cleaned_data["file"]
    try:
        dataset_preview(upload)  # refuse what cannot be read before storing it
    except CsvRejected as exc:
        form.add_error("file", exc.message)
        return render(request, "analytics/dataset_new.html", context, status=400)
    token = uuid.uuid4().hex
    stored = upload_store(upload)
    request.session[UPLOADS] = {
        **request.session.get(UPLOADS, {}),
        token: {
            "path": stored, "file_name": upload.name, "name": form.cleaned_data["name"] or upload.name,
            "description": form.cleaned_data["description"], "is_public": form.cleaned_data["is_public"],
        },
    }  # fmt: skip
    return redirect("analytics:dataset-preview", token=token)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_preview_page(request: HttpRequest, token: str) -> HttpResponse:
    """The preview: change a column's kind or name, leave one out, then load (a background job)."""
    upload = request.session.get(UPLOADS, {}).get(token)
    if upload is None or not default_storage.exists(upload["path"]):
        raise Http404("No such upload: choose the file again.")
    with default_storage.open(upload["path"], "rb") as file:
        preview = dataset_preview(file)
    form = preview_form(preview.columns)(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        context = {"form": form, "preview": preview, "upload": upload}
        return render(request, "analytics/dataset_preview.html", context, status=400 if form.errors else 200)
    job = job_start(
        tasks.dataset_load, kind=Job.Kind.DATASET, summary=f"Load {upload['file_name']} as {upload['name']}",
        actor=request.user, upload=upload["path"], owner_id=request.user.pk, name=upload["name"],
        description=upload["description"], is_public=upload["is_public"], choices=form.choices(),
        empty_bad_cells=form.cleaned_data["empty_bad_cells"],
    )  # fmt: skip
    request.session[UPLOADS] = {key: value for key, value in request.session[UPLOADS].items() if key != token}
    job_follow(request, job)
    return redirect(job)


@login_or_token_required
@require_GET
def dataset_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The filtered, sorted table as CSV, streamed; formula-like text is spreadsheet-safe (export.py)."""
    dataset = _visible_dataset(request, slug)
    columns = dataset.column_list
    form = table_form(columns)(request.GET)
    if not form.is_valid():
        return HttpResponse(f"Bad filters: {form.errors.as_text()}", status=400, content_type="text/plain")
    queryset = rows_matching(dataset_rows(dataset), columns, form.filters()).order_by(
        form.cleaned_data["sort"], "pk"
    )
    names = tuple(column.name for column in columns)
    texts = tuple(column.name for column in columns if column.kind in ("text", "category"))
    lines = csv_lines(csv_rows(queryset, ("id", *names), texts))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{dataset.slug}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def dataset_delete_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Delete a dataset and its table, after a confirmation: its owner and staff only."""
    dataset = _visible_dataset(request, slug)
    if not dataset.editable_by(request.user):
        raise PermissionDenied("Only the dataset's owner and staff delete it.")
    if request.method == "POST":
        dataset_delete(dataset)
        messages.success(request, f"Deleted {dataset.name} ({dataset.row_count:,} rows).")
        return redirect("analytics:datasets")
    return render(request, "analytics/dataset_delete.html", {"dataset": dataset})


@require_GET
def dataset_statistics(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    context = {"dataset": dataset}
    try:
        with time_limited_queries():
            profile = dataset_profile(dataset)
    except QueryTimedOut:
        return render(request, "analytics/dataset_profile.html", {**context, "timed_out": True}, status=503)
    context.update(profile=profile, figures=profile_figures(profile, chart_fields(dataset.column_list)))
    return render(request, "analytics/dataset_profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_replace_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Replace every row with a file of the same columns (a background job): its owner and staff only."""
    dataset = _visible_dataset(request, slug)
    if not dataset.editable_by(request.user):
        raise PermissionDenied("Only the dataset's owner and staff replace its rows.")
    form = DatasetReplaceForm(request.POST or None, request.FILES or None)
    context = {"dataset": dataset, "form": form, "max_bytes": settings.DATASET_MAX_BYTES}
    if request.method == "GET" or not form.is_valid():
        return render(request, "analytics/dataset_replace.html", context, status=400 if form.errors else 200)
    upload = form.cleaned_data["file"]
    try:
        replacement_check(dataset, upload)
    except CsvRejected as exc:
        form.add_error("file", exc.message)
        return render(request, "analytics/dataset_replace.html", context, status=400)
    stored = upload_store(upload)
    summary = f"Replace the rows of {dataset.name} with {upload.name}"
    job = job_start(
        tasks.dataset_reload, kind=Job.Kind.DATASET, summary=summary, actor=request.user, upload=stored,
        dataset_id=dataset.pk, empty_bad_cells=form.cleaned_data["empty_bad_cells"],
    )  # fmt: skip
    job_follow(request, job)
    return redirect(job)
