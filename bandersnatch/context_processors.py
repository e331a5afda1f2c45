from __future__ import annotations

import time

from django.http import HttpRequest


class _Elapsed:
    """Renders as the milliseconds since the request started, read when rendered."""

    def __init__(self, started_at: float | None):
        self.started_at = started_at

    def __str__(self) -> str:
        if self.started_at is None:
            return ""
        return f"{(time.perf_counter() - self.started_at) * 1000:.0f}"


def page_timer(request: HttpRequest) -> dict:
    return {"elapsed_ms": _Elapsed(getattr(request, "started_at", None))}
