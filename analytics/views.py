from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from bandersnatch.db import QueryTimedOut, time_limited_queries
from monsters.models import Monster

from .filters import DEFAULT_PER_PAGE, table_form
from .forms import ChartForm
from .models import Dataset
from .services import figure_for, statistics
from .table import dataset_rows, dataset_table_page


def _rows_url(filters: dict) -> str:
    """/data with the same filters: the rows behind a chart."""
    query = urlencode({key: value for key, value in filters.items() if value not in (None, "")})
    return reverse("monsters:data") + (f"?{query}" if query else "")


def _chart(form: ChartForm) -> dict:
    with time_limited_queries():
        figure = figure_for(**form.chart(), filters=form.filters())
    return {"figure": figure, "rows_url": _rows_url(form.filters())}


@require_GET
def view(request: HttpRequest) -> HttpResponse:
    form = ChartForm(request.GET)
    context = {"form": form, "has_data": Monster.objects.exists()}
    if not form.is_valid():
        return render(request, "analytics/view.html", context, status=400)
    if not context["has_data"]:
        return render(request, "analytics/view.html", context)
    try:
        context.update(_chart(form), chart=form.chart())
    except QueryTimedOut:
        return render(request, "analytics/view.html", {**context, "timed_out": True}, status=503)
    return render(request, "analytics/view.html", context)


@require_GET
def view_figure(request: HttpRequest) -> JsonResponse:
    """The figure alone, for the page's script to redraw without a reload."""
    form = ChartForm(request.GET)
    if not form.is_valid():
        errors = {field: [str(e) for e in messages] for field, messages in form.errors.items()}
        first = next(iter(errors.values()))[0]
        return JsonResponse({"message": first, "errors": errors}, status=400)
    try:
        return JsonResponse(_chart(form))
    except QueryTimedOut:
        return JsonResponse(
            {"message": "The chart took too long to compute; narrow the filters."}, status=503
        )


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
    data = request.GET.copy()
    data.setdefault("per_page", str(DEFAULT_PER_PAGE))
    form = table_form(columns)(data)
    context = {"dataset": dataset, "columns": columns, "form": form}
    if not form.is_valid():
        return render(request, "analytics/dataset_table.html", context, status=400)
    options = {name: form.cleaned_data[name] for name in ("sort", "per_page", "page", "after", "before")}
    try:
        page = dataset_table_page(dataset, **options, filters=form.filters())
    except ValueError as exc:  # a cursor that does not decode
        form.add_error(None, str(exc))
        return render(request, "analytics/dataset_table.html", context, status=400)
    except QueryTimedOut:
        return render(request, "analytics/dataset_table.html", {**context, "timed_out": True}, status=503)
    context.update(page=page, sort=options["sort"], cells=[_cells(row, columns) for row in page.rows])
    return render(request, "analytics/dataset_table.html", context)


@require_GET
def dataset_row(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    row = get_object_or_404(dataset_rows(dataset), pk=pk)
    columns = dataset.column_list
    fields = list(zip(columns, _cells(row, columns)[1:], strict=True))
    return render(request, "analytics/dataset_row.html", {"dataset": dataset, "row": row, "fields": fields})


def _cells(row, columns) -> list:
    """A row's id and its values in column order."""
    return [row.pk, *(getattr(row, column.name) for column in columns)]
