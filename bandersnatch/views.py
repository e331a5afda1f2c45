"""The staff's operations home, the job pages, /metrics, and the answer when the database is down."""

from __future__ import annotations

import sys
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from .access import staff_required
from .context_processors import page_timer
from .db import DATABASE_DOWN_MESSAGE, database_unreachable
from .jobs import job_cancel, job_queue_health, job_state
from .metrics import metrics_exposition, metrics_readable_by
from .middleware import API_PREFIX
from .models import AuditEntry, Job


@staff_required
@require_GET
def ops(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.select_related("created_by")[:10]
    return render(
        request,
        "ops/index.html",
        {
            "states": [job_state(job) for job in jobs],
            "queue": job_queue_health(),
            "audit": AuditEntry.objects.select_related("actor")[:15],
        },
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape: for METRICS_ALLOWED_IPS or a METRICS_TOKEN bearer; 404 when turned off."""
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are turned off (METRICS_ENABLED).")
    if not metrics_readable_by(request):
        return HttpResponseForbidden(
            "Metrics are for allowed addresses (METRICS_ALLOWED_IPS) or a bearer of METRICS_TOKEN.\n",
            content_type="text/plain; charset=utf-8",
        )
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)


def _job_for(request: HttpRequest, pk: uuid.UUID) -> Job:
    """The job if the visitor may follow it (staff, or whoever started it); 404 otherwise."""
    jobs = Job.objects.select_related("created_by")
    if not request.user.is_staff:
        jobs = jobs.filter(created_by__isnull=False, created_by=request.user.pk)
    return get_object_or_404(jobs, pk=pk)


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    state = job_state(_job_for(request, pk))
    queue = job_queue_health() if state.status == "queued" else None
    return render(request, "ops/job.html", {"state": state, "queue": queue})


@login_required
@require_GET
def job_status(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """The job's status and progress for the page's polling script."""
    state = job_state(_job_for(request, pk))
    body = {"status": state.status, "finished": state.finished, "error": state.error}
    started = state.started_at.isoformat() if state.started_at else None
    return JsonResponse({**body, "progress": state.job.progress, "started_at": started})


@staff_required
@require_POST
def job_cancel_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Staff cancel a job that waits for a worker."""
    job = get_object_or_404(Job, pk=pk)
    if job_cancel(job, actor=request.user):
        messages.success(request, "The job was cancelled before it started; nothing was changed.")
    else:
        messages.error(request, "A worker has taken the job already: it runs to its end.")
    return redirect(job)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500, except while the database cannot be reached: then a 503 that says so.

    Django calls this (handler500) for every exception a view or a middleware
    lets through, with the exception being handled, so this one place covers
    every page and endpoint.  The page renders without context processors:
    reading the signed-in user needs the database.
    """
    if not database_unreachable(sys.exc_info()[1]):
        return defaults.server_error(request)
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": DATABASE_DOWN_MESSAGE}, status=503)
    context = {"request": request, **page_timer(request)}
    return HttpResponse(render_to_string("errors/database_unavailable.html", context), status=503)
