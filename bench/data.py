"""Seeding and the /data page, beside the original app's approach."""

from __future__ import annotations

import time

from .pages import PAGE_HEADER, measure_page
from .timing import gzipped, mb, once, times

ORIGINAL_SAMPLE = 2_000  # row-by-row inserts are measured on this many and extrapolated


def monsters_seed_reset() -> None:
    """An empty table, so the original's row-by-row inserts start from nothing."""
    from monsters.services import monsters_seed

    monsters_seed(count=0, reset=True)


def bench_seeding(count: int, *, repeat: int) -> dict:
    """Best and median of `repeat` seeds of `count` monsters (reset each time)."""
    from monsters.services import monsters_seed

    seconds = sorted(once(lambda: monsters_seed(count=count, reset=True, seed=1))[0] for _ in range(repeat))
    return {"runs": repeat, "best_s": seconds[0], "median_s": seconds[len(seconds) // 2]}


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
    from monsters.models import Monster
    from monsters.pagination import encode_cursor

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


def run(count: int, *, repeat: int, log) -> str:
    """Seed `count` monsters and measure, as a Markdown section."""
    monsters_seed_reset()
    original_rate = bench_original_seeding()
    log(f"original seeding: {original_rate:,.0f} rows/s over {ORIGINAL_SAMPLE:,} rows")
    seed_runs = 3
    seeding = bench_seeding(count, repeat=seed_runs)
    log(f"{count:,}: seeding best {seeding['best_s']:.2f} s")
    pages = bench_data_pages(count, repeat=repeat)
    rows = [result.row(label) for label, result in pages]
    for row in rows:
        log("   " + " | ".join(row))
    original = bench_original_data_page()
    log(f"{count:,}: original /data {original['seconds']:.1f} s, {mb(original['size'])}")
    extrapolated = count / original_rate
    first = pages[0][1]
    return "\n".join(
        [
            f"### {count:,} monsters",
            "",
            "| seeding | time | rows/s |",
            "| --- | ---: | ---: |",
            f"| `monsters_seed` (numpy + binary COPY, indexes rebuilt), best of {seed_runs} | "
            f"{seeding['best_s']:.2f} s (median {seeding['median_s']:.2f}) | "
            f"{count / seeding['best_s']:,.0f} |",
            "| original: one object and one INSERT per monster, one transaction "
            f"(measured on {ORIGINAL_SAMPLE:,} rows, extrapolated) | {extrapolated:,.1f} s "
            f"| {original_rate:,.0f} |",
            f"| ratio | {times(extrapolated / seeding['best_s'])} faster | |",
            "",
            f"`/data`, {repeat} requests each after a warm-up; server time from the `Server-Timing` header:",
            "",
            "| " + " | ".join(PAGE_HEADER) + " |",
            "|" + " --- |" * 2 + " ---: |" * 4,
            *("| " + " | ".join(row) + " |" for row in rows),
            f"| original: every row with `DataFrame.to_html()` | | {original['seconds'] * 1000:,.0f} | | "
            f"{original['size'] / 1024:,.0f} | {original['gzip'] / 1024:,.0f} |",
            "",
            f"First page against the original: "
            f"{times(original['seconds'] * 1000 / first.server_median_ms)} faster, "
            f"{times(original['size'] / first.size)} smaller.",
            "",
        ]
    )
