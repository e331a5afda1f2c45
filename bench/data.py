"""Seeding and the /data page, beside the original app's approach."""

from __future__ import annotations

import statistics
import time

from .pages import PAGE_HEADER, measure_page
from .timing import gzipped, once, times

ORIGINAL_SAMPLE = 2_000  # row-by-row inserts are measured on this many and extrapolated


def monsters_seed_reset() -> None:
    """An empty table, so the original's row-by-row inserts start from nothing."""
    from monsters.services import monsters_seed

    monsters_seed(count=0, reset=True)


def original_monster(rng) -> dict:
    """One monster the way the original app made them: plain Python random draws, one object."""
    from monsters.generator import DICE, NAME_PROBABILITIES, NAMES, TYPES

    type_code = rng.randrange(len(TYPES))
    level = min(int(rng.triangular(1, 21, 3)), 20)
    rank = min(int(rng.triangular(0, 6, 0)), 5)
    bonus = min(int(rng.triangular(0, 6, 0)), 5)
    die = int(DICE[rank])

    def resource() -> float:
        return round(level * die + rng.randint(-rank, rank) + rng.uniform(-1, 1), 2)

    return {
        "name": rng.choices(NAMES, weights=NAME_PROBABILITIES[type_code])[0],
        "type": TYPES[type_code],
        "level": level,
        "rarity": f"Rank {rank}",
        "damage": f"{level}d{die}" + (f"+{bonus}" if bonus else ""),
        "health": resource(),
        "energy": resource(),
        "sanity": resource(),
    }


def bench_original_seeding() -> float:
    """Rows per second of the original way: one generated object, one INSERT, per monster.

    All in one transaction, the kindest case for it (one commit per row is
    several times slower again).
    """
    import random

    from django.db import transaction

    from monsters.models import Monster

    rng = random.Random(1)
    started = time.perf_counter()
    with transaction.atomic():
        for _ in range(ORIGINAL_SAMPLE):
            Monster.objects.create(**original_monster(rng))
    return ORIGINAL_SAMPLE / (time.perf_counter() - started)


def data_pages(count: int) -> list[tuple[str, str]]:
    """The /data pages to time: first, deep (by cursor and by jump), sorted, filtered."""
    from analytics.pagination import encode_cursor
    from monsters.models import Monster

    deep_offset = int(count * 0.9)
    deep = Monster.objects.order_by("health", "pk").values_list("health", "pk")[deep_offset]
    cursor = encode_cursor(*deep)
    fey = Monster.objects.filter(type="Fey").order_by("-level", "-pk").values_list("level", "pk")
    fey_deep = fey[int(fey.count() * 0.9)]
    jump = max(1, int(count / 50 * 0.9))
    return [
        ("first page", "/data/"),
        ("deep page, next link (keyset)", f"/data/?sort=health&page={deep_offset // 50 + 1}&after={cursor}"),
        ("deep page, jump to page", f"/data/?page={jump}"),
        ("last page", "/data/?page=last"),
        ("sorted by health, descending", "/data/?sort=-health"),
        ("sorted by name", "/data/?sort=name"),
        ("sorted by created_at, descending", "/data/?sort=-created_at"),
        ("filtered: type and rarity", "/data/?type=Dragon&rarity=Rank+5"),
        ("filtered: level range, sorted", "/data/?level_min=10&level_max=12&sort=-sanity"),
        ("filtered: name contains", "/data/?q=lich"),
        ("filtered: two-letter name search", "/data/?q=zz&sort=health"),
        (
            "filtered + deep keyset page",
            f"/data/?type=Fey&sort=-level&page=2000&after={encode_cursor(*fey_deep)}",
        ),
    ]


def bench_data_pages(count: int, *, repeat: int) -> list:
    from django.test import Client

    client = Client()
    return [(label, measure_page(client, url, repeat=repeat)) for label, url in data_pages(count)]


def bench_original_data_page() -> dict:
    """The original approach: every row into pandas, then to_html of all of it."""
    import pandas as pd

    from monsters.models import Monster

    fields = ["name", "type", "level", "rarity", "damage", "health", "energy", "sanity", "created_at"]

    def render() -> bytes:
        frame = pd.DataFrame(list(Monster.objects.values(*fields)))
        return frame.to_html().encode()

    seconds, html = once(render)
    return {"seconds": seconds, "size": len(html), "gzip": gzipped(html)}


ORIGINAL_PAGE_MAX_ROWS = 1_000_000  # the original /data renders every row: not tried beyond this


def bench_monster_pages(count: int) -> dict:
    """Server times of monster pages: first views right after a data change, then views again."""
    import random

    from django.db.models import Max, Min
    from django.test import Client

    from monsters.models import Monster
    from monsters.services import data_version_bump

    bounds = Monster.objects.aggregate(low=Min("pk"), high=Max("pk"))
    rng = random.Random(7)
    ids = list(Monster.objects.filter(pk__in=[rng.randint(bounds["low"], bounds["high"]) for _ in range(60)])
               .values_list("pk", flat=True)[:20])  # fmt: skip
    data_version_bump()  # as after an edit: this version's precomputed results do not exist yet
    client = Client()
    first = [measure_page(client, f"/monsters/{pk}/", repeat=1, warmup=False).server_median_ms for pk in ids]
    again = [measure_page(client, f"/monsters/{pk}/", repeat=3).server_median_ms for pk in ids[:10]]
    return {"first": first, "again": again}


def run(count: int, *, repeat: int, log) -> str:
    """Seed `count` monsters and measure, as a Markdown section."""
    import os

    from bandersnatch.snapshots import snapshots_refresh

    from .grid import bench_grid, grid_section
    from .live import bench_during_reseed, bench_seeding_process, live_section
    from .timing import once

    url = os.environ["DATABASE_URL"]
    monsters_seed_reset()
    original_rate = bench_original_seeding()
    log(f"original seeding: {original_rate:,.0f} rows/s over {ORIGINAL_SAMPLE:,} rows")
    seeding = bench_seeding_process(count, url=url, runs=3 if count <= 1_000_000 else 1)
    log(
        f"{count:,}: seed {seeding['seed_best']:.2f} s, floor {seeding['floor_best']:.2f} s, "
        f"{seeding['ratio']:.2f}×"
    )
    refresh_seconds, _ = once(snapshots_refresh)  # what the worker does after the change
    log(f"{count:,}: precomputed results refreshed in {refresh_seconds:.1f} s")
    pages = bench_data_pages(count, repeat=repeat)
    rows = [result.row(label) for label, result in pages]
    for row in rows:
        log("   " + " | ".join(row))
    grid = bench_grid()
    log(f"{count:,}: grid slowest {grid['cells'][0][1].server_median_ms:.1f} ms ({grid['cells'][0][0]})")
    monster_pages = bench_monster_pages(count)
    log(f"{count:,}: monster pages, first views at most {max(monster_pages['first']):.1f} ms")
    during = bench_during_reseed(count, url=url)
    log(f"{count:,}: reseed under load took {during['seconds']:.1f} s")
    original = bench_original_data_page() if count <= ORIGINAL_PAGE_MAX_ROWS else None
    extrapolated = count / original_rate
    first = pages[0][1]
    lines = [
        f"### {count:,} monsters",
        "",
        *live_section(count, seeding, during),
        f"Against the original way (one object and one INSERT per monster, in one transaction, measured on "
        f"{ORIGINAL_SAMPLE:,} rows and extrapolated: {extrapolated:,.1f} s): "
        f"{times(extrapolated / seeding['seed_best'])} faster. After the seed, the precomputed results "
        f"(statistics, default chart, counts, similarity scales, page anchors) took {refresh_seconds:.1f} s "
        "in the background job.",
        "",
        f"`/data`, {repeat} requests each after a warm-up; server time from the `Server-Timing` header:",
        "",
        "| " + " | ".join(PAGE_HEADER) + " |",
        "|" + " --- |" * 2 + " ---: |" * 4,
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    if original is not None:
        lines += [
            f"| original: every row with `DataFrame.to_html()` | | {original['seconds'] * 1000:,.0f} | | "
            f"{original['size'] / 1024:,.0f} | {original['gzip'] / 1024:,.0f} |",
            "",
            f"First page against the original: "
            f"{times(original['seconds'] * 1000 / first.server_median_ms)} faster, "
            f"{times(original['size'] / first.size)} smaller.",
        ]
    first_views, again = monster_pages["first"], monster_pages["again"]
    lines += [
        "",
        *grid_section(grid),
        f"A monster's page (with its five most similar, found by the database): {len(first_views)} pages "
        f"viewed for the first time right after a data change, before the background refresh: median "
        f"{statistics.median(first_views):.1f} ms, worst {max(first_views):.1f} ms; viewed again: median "
        f"{statistics.median(again):.1f} ms, worst {max(again):.1f} ms. Target: at most 100 ms on every "
        "view.",
        "",
    ]
    return "\n".join(lines)
