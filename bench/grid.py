"""Every /data filter kind crossed with every sort, both ways, and the next links from the slowest.

Filters and sorts that users combine, correlated ones included (a high level
sorted by energy: resources grow with level and rank), so the pages measured
are the ones a user meets, not only the friendly ones.
"""

from __future__ import annotations

import re
import statistics
from html import unescape as html_unescape
from urllib.parse import urlencode

from .pages import measure_page

FILTERS = [
    ("none", {}),
    ("type", {"type": "Fey"}),
    ("common rarity", {"rarity": "Rank 0"}),
    ("rare rarity", {"rarity": "Rank 5"}),
    ("low levels", {"level_max": 2}),
    ("high levels", {"level_min": 18}),
    ("middle levels", {"level_min": 10, "level_max": 12}),
    ("most levels", {"level_min": 3}),
    ("name contains", {"q": "lich"}),
    ("short name search", {"q": "dr"}),
    ("type and rarity", {"type": "Dragon", "rarity": "Rank 5"}),
    ("level range and type", {"level_min": 15, "type": "Undead"}),
    ("rarity, levels and name", {"rarity": "Rank 0", "level_max": 3, "q": "imp"}),
    ("resource range", {"health_min": 100, "sanity_max": 150}),
]
SORTS = ["id", "name", "type", "level", "rarity", "damage", "health", "energy", "sanity", "created_at"]
TARGET_MS = 100.0
NEXT_FROM = 5  # the slowest cells whose next links are followed
NEXT_LINKS = 3  # next links followed from each


def grid_urls() -> list[tuple[str, str]]:
    return [
        (f"{name}, {sign}{sort}", "/data/?" + urlencode({**filters, "sort": f"{sign}{sort}"}))
        for name, filters in FILTERS
        for sort in SORTS
        for sign in ("", "-")
    ]


def bench_grid(*, repeat: int = 3) -> dict:
    """The median server time of every cell, and of NEXT_LINKS next links from the NEXT_FROM slowest."""
    from django.test import Client

    client = Client()
    cells = [(label, measure_page(client, url, repeat=repeat)) for label, url in grid_urls()]
    cells.sort(key=lambda cell: cell[1].server_median_ms, reverse=True)
    links = []
    for label, result in cells[:NEXT_FROM]:
        url = result.url
        for step in range(1, NEXT_LINKS + 1):
            html = client.get(url).content.decode()
            found = re.search(r'rel="next" href="([^"]+)"', html)
            if found is None:
                break
            url = html_unescape(found.group(1))
            links.append((f"{label}, next link {step}", measure_page(client, url, repeat=repeat)))
    return {"cells": cells, "links": links}


def grid_section(grid: dict) -> list[str]:
    cells, links = grid["cells"], grid["links"]
    times = [result.server_median_ms for _, result in cells + links]
    over = [(label, result) for label, result in cells + links if result.server_median_ms > TARGET_MS]
    lines = [
        f"The grid: {len(FILTERS)} filter kinds × {len(SORTS)} sortable columns × both directions = "
        f"{len(cells)} pages, plus {len(links)} next links followed from the {NEXT_FROM} slowest; "
        "median of 3 server times each (after a warm-up).",
        "",
        "| pages | slowest ms | 95th percentile ms | median ms | over 100 ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {len(times)} | {max(times):.1f} | {_percentile(times, 0.95):.1f} | "
        f"{statistics.median(times):.1f} | {len(over)} |",
        "",
        "The ten slowest:",
        "",
        "| page | URL | median ms | p95 ms |",
        "| --- | --- | ---: | ---: |",
        *(
            f"| {label} | `{result.url}` | {result.server_median_ms:.1f} | {result.server_p95_ms:.1f} |"
            for label, result in sorted(cells + links, key=lambda c: c[1].server_median_ms, reverse=True)[:10]
        ),
        "",
    ]
    return lines


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
