"""The staff's operations home and the job pages."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .access import staff_required
from .jobs import job_queue_health, job_state
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


@staff_required
@require_GET
def job_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    state = job_state(get_object_or_404(Job.objects.select_related("created_by"), pk=pk))
    queue = job_queue_health() if state.status == "queued" else None
    return render(request, "ops/job.html", {"state": state, "queue": queue})


@staff_required
@require_GET
def job_status(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """The job's status for the page's polling script."""
    state = job_state(get_object_or_404(Job, pk=pk))
    return JsonResponse({"status": state.status, "finished": state.finished, "error": state.error})
