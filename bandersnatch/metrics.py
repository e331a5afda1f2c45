"""/metrics: the app's counters and state in Prometheus's text format, for whoever may read them.

Counted as it happens, in each server process: requests and their latency by
view, method and status (RequestMetricsMiddleware), predictions by model
version and source (ml.metrics).  Under gunicorn every worker process
counts in files of its own in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py
sets it up) and a scrape of any worker adds up all of them; without it (one
process: runserver, the tests) the counts live in memory.

Read from the database at each scrape, a handful of cheap queries: jobs by
status, the age of the oldest queued job, whether jobs wait in vain (as
/api/health says), and the rows of each dataset (recorded at each load; the
monsters' estimated by PostgreSQL when large).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from analytics.models import Dataset
from analytics.table import dataset_row_count

from .db import error_line
from .jobs import job_counts, job_queue_health

logger = logging.getLogger(__name__)

DATABASE_UP_HELP = "1 when the database answered this scrape (the gauges below need it)."

# One histogram holds both: its _count is the requests answered, its buckets their latency.
REQUESTS = Histogram(
    "bandersnatch_http_request_duration_seconds",
    "Requests answered and the time to their response (a streamed body's transfer not included), "
    "by view (its URL name), method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNNAMED_VIEW = "<unnamed view>"  # no view answered: an unknown address, a static file
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others: "other"


class RequestMetricsMiddleware:
    """Count each request and its latency by view, method and status.

    One labelled histogram observed per request (two values written), about
    10 microseconds; django-prometheus's pair of middleware writes sixteen
    values per request and cost about 85 more (python -m bench.middleware,
    docs/benchmarks.md).  The labels stay few: views are the URL patterns'
    names, unknown methods are "other".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUESTS.labels(
            match.view_name if match is not None and match.view_name else UNNAMED_VIEW,
            request.method if request.method in METHODS else "other",
            str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response


def metrics_readable_by(request: HttpRequest) -> bool:
    """Whether the request comes from METRICS_ALLOWED_IPS or carries `Bearer METRICS_TOKEN`.

    The address is the connection's (REMOTE_ADDR), never a forwarded header a
    client could write: behind a proxy every request comes from the proxy.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if settings.METRICS_TOKEN and scheme.lower() == "bearer":
        if hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


@functools.lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in allowed)


def metrics_exposition() -> tuple[bytes, str]:
    """Every metric in Prometheus's text format, and its content type."""
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:  # as prometheus_client decides where it counts
        multiprocess.MultiProcessCollector(registry)  # every worker process's counts, added up
    else:
        registry.register(REGISTRY)  # this process's counts (and its CPU and memory)
    registry.register(DatabaseStateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class DatabaseStateCollector:
    """The state a scrape reads from the database: jobs and rows."""

    def collect(self) -> Iterator[Metric]:
        try:
            counts = job_counts()
            queue = job_queue_health()
            rows = [(dataset.slug, dataset_row_count(dataset).value) for dataset in Dataset.objects.all()]
        except DatabaseError as exc:
            logger.warning("/metrics could not read the database: %s", error_line(exc))
            yield GaugeMetricFamily("bandersnatch_database_up", DATABASE_UP_HELP, 0)
            return
        yield GaugeMetricFamily("bandersnatch_database_up", DATABASE_UP_HELP, 1)
        jobs = GaugeMetricFamily(
            "bandersnatch_jobs",
            "Background jobs by status: queued, running, succeeded, failed (finished ones until pruned).",
            labels=["status"],
        )
        for status, count in counts.by_status.items():
            jobs.add_metric([status], count)
        yield jobs
        oldest = counts.oldest_queued_at
        yield GaugeMetricFamily(
            "bandersnatch_jobs_oldest_queued_age_seconds",
            "How long the job waiting longest has waited for a worker; 0 when none waits.",
            (timezone.now() - oldest).total_seconds() if oldest else 0,
        )
        yield GaugeMetricFamily(
            "bandersnatch_jobs_stalled",
            "1 when jobs wait in vain: no worker checked in lately, or one that does takes no job "
            "(/api/health answers 503).",
            int(queue.stalled),
        )
        table_rows = GaugeMetricFamily(
            "bandersnatch_dataset_rows",
            "Rows per dataset (the monsters' estimated by PostgreSQL above 10,000).",
            labels=["dataset"],
        )
        for slug, count in rows:
            table_rows.add_metric([slug], count)
        yield table_rows
