from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from bandersnatch.db import QueryTimedOut, time_limited_queries
from monsters.models import Monster

from .forms import ChartForm
from .services import figure_for, statistics


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
