"""How long each request took, for the page footer and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Stamp the request's start and answer with a `Server-Timing: app;dur=ms` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.started_at = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - request.started_at) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response
