"""Requesting pages in-process and reading the server's own timing."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from .timing import gzipped


@dataclass
class PageResult:
    url: str
    server_median_ms: float  # from our Server-Timing header: the whole Django request
    server_p95_ms: float
    size: int  # bytes of the response body
    gzip_size: int

    def row(self, label: str) -> list[str]:
        return [
            label,
            f"`{self.url}`",
            f"{self.server_median_ms:.1f}",
            f"{self.server_p95_ms:.1f}",
            f"{self.size / 1024:,.1f}",
            f"{self.gzip_size / 1024:,.1f}",
        ]


PAGE_HEADER = ["page", "URL", "median ms", "p95 ms", "KB", "KB gzipped"]


def measure_page(
    client, url: str, *, repeat: int, clear_cache: bool = False, warmup: bool = True, clear=None
) -> PageResult:
    """GET `url` repeat times (after a warm-up unless told not to); the Server-Timing durations summarised.

    `clear`: called before each request too (e.g. forgetting precomputed results).
    """
    from django.core.cache import cache

    durations = []
    response = None
    for attempt in range(repeat + (1 if warmup else 0)):
        if clear_cache:
            cache.clear()
        if clear is not None:
            clear()
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if attempt or not warmup:
            durations.append(float(re.search(r"dur=([\d.]+)", response["Server-Timing"]).group(1)))
    durations.sort()
    content = response.content
    return PageResult(
        url=url,
        server_median_ms=statistics.median(durations),
        server_p95_ms=durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))],
        size=len(content),
        gzip_size=gzipped(content),
    )
