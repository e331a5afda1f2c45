"""Timing helpers: medians and 95th percentiles of repeated runs, page sizes."""

from __future__ import annotations

import gzip
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    runs: int

    def __str__(self) -> str:
        return f"{self.median_ms:.1f} ms (p95 {self.p95_ms:.1f})"


def timed(action: Callable[[], object], *, repeat: int, warmup: int = 1) -> tuple[Timing, object]:
    """Run `action` warmup + repeat times; the timing of the measured runs and the last result."""
    result = None
    for _ in range(warmup):
        result = action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p95, repeat), result


def once(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def kb(size: int) -> str:
    return f"{size / 1024:,.1f} KB"


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def gzipped(content: bytes) -> int:
    return len(gzip.compress(content, compresslevel=6))


def times(ratio: float) -> str:
    """A ratio as "12×", or "1.4×" when small."""
    return f"{ratio:,.1f}×" if ratio < 10 else f"{ratio:,.0f}×"
