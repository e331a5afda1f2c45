from __future__ import annotations

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods

from analytics.datasets import upload_store
from analytics.export import csv_lines
from analytics.filters import table_query
from analytics.pagination import count_rows
from analytics.suggestions import suggestions_response
from bandersnatch.access import login_or_token_required, staff_required
from bandersnatch.db import QueryTimedOut
from bandersnatch.jobs import job_follow, job_start
from bandersnatch.models import Job

from . import tasks
from .columns import MONSTER_COLUMNS
from .forms import DataPageForm, ImportForm, MonsterFilterForm, ReseedForm
from .generator import generate_monsters
from .importing import ImportRejected, monsters_import_csv
from .loading import LoadBusy
from .models import Monster
from .selectors import counts_by_rarity, monster_table_page
from .services import monsters_export_rows, monsters_seed
from .similarity import monsters_similar

RESEED_INLINE_MAX = 20_000  # larger reseeds run as a background job
IMPORT_INLINE_MAX_BYTES = 1536 * 1024  # 1.5 MB, about 20,000 monsters as a reseed: larger ones run as a job
PAGE_LOAD_WAIT_SECONDS = 5  # how long a page waits for another load of the monsters to finish

FIELD_LABELS = {"id": "#", **{column.name: column.label for column in MONSTER_COLUMNS}}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    card = generate_monsters(1, rng=np.random.default_rng()).iloc[0].to_dict()
    return render(request, "monsters/home.html", {"counts": counts_by_rarity(), "card": card})


@require_GET
def data(request: HttpRequest) -> HttpResponse:
    form = DataPageForm(request.GET)
    context = {"form": form, "columns": FIELD_LABELS}
    if not form.is_valid():
        return render(request, "monsters/data.html", context, status=400)
    try:
        page = monster_table_page(**form.page_options())
    except ValueError as exc:  # a cursor that does not decode
        form.add_error(None, str(exc))
        return render(request, "monsters/data.html", context, status=400)
    except QueryTimedOut:
        context["timed_out"] = True
        return render(request, "monsters/data.html", context, status=503)
    if page.past_end:
        return redirect(request.path + table_query(request.GET, page=page.number or "last"))
    context.update(
        page=page, sort=form.cleaned_data["sort"], chips=form.chips(request.GET),
        cleared_query=form.cleared_query(request.GET),
    )  # fmt: skip
    return render(request, "monsters/data.html", context)


@require_GET
def names(request: HttpRequest) -> JsonResponse:
    """The name filter's suggestions: names containing `q` (static/js/suggest.js)."""
    form = MonsterFilterForm({"q": request.GET.get("q", "")})
    return suggestions_response(form, "q", lambda text: Monster.objects.matching(q=text), "name")


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    monster = get_object_or_404(Monster, pk=pk)
    return render(request, "monsters/detail.html", {"monster": monster, "similar": monsters_similar(monster)})


@login_or_token_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered, sorted view as CSV; formula-like text is spreadsheet-safe (analytics.export)."""
    form = DataPageForm(request.GET)
    if not form.is_valid():
        return HttpResponse(f"Bad filters: {form.errors.as_text()}", status=400, content_type="text/plain")
    queryset = Monster.objects.matching(**form.filters()).order_by(form.cleaned_data["sort"], "pk")
    response = StreamingHttpResponse(
        csv_lines(monsters_export_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="monsters.csv"'
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest) -> HttpResponse:
    """Replace every monster: choose, confirm, then run here or as a job for large counts."""
    form = ReseedForm(request.POST or None)
    context = {"form": form, "current": count_rows(Monster.objects.all()), "inline_max": RESEED_INLINE_MAX}
    if request.method == "GET":
        return render(request, "monsters/reset.html", context)
    if not form.is_valid():
        return render(request, "monsters/reset.html", context, status=400)
    count, seed = form.cleaned_data["count"], form.cleaned_data["seed"]
    if not form.cleaned_data["confirm"]:
        return render(request, "monsters/reset.html", {**context, "confirming": True})
    if count <= RESEED_INLINE_MAX:
        try:
            monsters_seed(count=count, seed=seed, reset=True, actor=request.user, wait=PAGE_LOAD_WAIT_SECONDS)
        except LoadBusy as exc:
            form.add_error(None, str(exc))
            return render(request, "monsters/reset.html", context, status=409)
        messages.success(request, f"Replaced every monster with {count:,} new ones.")
        return redirect("monsters:data")
    job = job_start(
        tasks.reseed,
        kind=Job.Kind.RESEED,
        summary=f"Replace every monster with {count:,} generated ones",
        actor=request.user,
        count=count,
        seed=seed,
        actor_id=request.user.pk,
    )
    job_follow(request, job)
    return redirect(job)


@staff_required
@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse:
    """Staff upload monsters as CSV: every row goes in, or none and the page says which cells are wrong.

    A small file is imported here and the table shows the monsters it added; a
    larger one is imported by a job, whose page shows its progress and then
    links to them.
    """
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    context = {"form": form, "max_bytes": settings.IMPORT_MAX_BYTES, "job_above": IMPORT_INLINE_MAX_BYTES}
    if request.method == "GET":
        return render(request, "monsters/import.html", context)
    if not form.is_valid():
        return render(request, "monsters/import.html", context, status=400)
    mode, file = form.cleaned_data["mode"], form.cleaned_data["file"]
    if file.size > IMPORT_INLINE_MAX_BYTES:
        what = "Replace every monster with those" if mode == "replace" else "Append the monsters"
        job = job_start(
            tasks.import_csv,
            kind=Job.Kind.IMPORT,
            summary=f"{what} of {file.name} ({filesizeformat(file.size)})",
            actor=request.user,
            upload=upload_store(file),
            file_name=file.name,
            mode=mode,
            actor_id=request.user.pk,
        )
        job_follow(request, job)
        return redirect(job)
    try:
        imported = monsters_import_csv(file=file, mode=mode, actor=request.user, wait=PAGE_LOAD_WAIT_SECONDS)
    except ImportRejected as rejected:
        if not rejected.errors:  # not a CSV of monsters at all: one sentence says why
            form.add_error("file", rejected.message)
        return render(request, "monsters/import.html", {**context, "rejected": rejected}, status=400)
    if mode == "replace":
        messages.success(request, f"Replaced every monster with {imported.count:,} imported ones.")
    else:
        messages.success(request, f"Imported {imported.count:,} monsters, shown below.")
    return redirect(imported.table_url)
