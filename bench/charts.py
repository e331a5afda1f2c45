"""/view (every chart kind) and /analytics/, beside the original whole-table chart."""

from __future__ import annotations

from .pages import PAGE_HEADER, measure_page
from .timing import gzipped, once, times

VIEW_PAGES = [
    ("scatter (sample)", "/view/?kind=scatter&x=level&y=health&color=rarity"),
    ("scatter, filtered", "/view/?kind=scatter&x=health&y=energy&color=type&type=Fey&level_min=5"),
    ("histogram", "/view/?kind=histogram&x=health&color=rarity"),
    ("histogram of names", "/view/?kind=histogram&x=name&color=rarity"),
    ("box", "/view/?kind=box&x=type&y=health&color=rarity"),
    ("density", "/view/?kind=density&x=health&y=sanity"),
    ("statistics page, computed (cold)", "/analytics/"),
]
# Every chart kind with the filters of the /data grid's hardest kinds.
FILTERED = [
    (f"{kind}, {name}", f"/view/?kind={kind}&{query}")
    for kind, query_of_kind in (
        ("scatter", "x=health&y=energy&color=rarity"),
        ("histogram", "x=sanity&color=type"),
        ("box", "x=rarity&y=energy"),
        ("density", "x=health&y=level"),
    )
    for name, query in (
        ("type", f"{query_of_kind}&type=Fey"),
        ("high levels", f"{query_of_kind}&level_min=18"),
        ("common rarity", f"{query_of_kind}&rarity=Rank+0"),
        ("name contains", f"{query_of_kind}&q=lich"),
    )
]


ORIGINAL_MAX_ROWS = 1_000_000  # the original draws every row: not tried beyond this


def _forget_computed() -> None:
    """As on the first visit after a data change, before the background refresh has run."""
    from bandersnatch.models import Snapshot

    Snapshot.objects.all().delete()


def bench_chart_pages(*, repeat: int) -> list:
    """(label, PageResult) per page, each computed from scratch: the cache is emptied first."""
    from django.test import Client

    from bandersnatch.snapshots import snapshots_refresh

    client = Client()
    results = [
        (label, measure_page(client, url, repeat=repeat, clear_cache=True, clear=_forget_computed))
        for label, url in VIEW_PAGES + FILTERED
    ]
    snapshots_refresh()
    results.append(("statistics page, precomputed", measure_page(client, "/analytics/", repeat=repeat)))
    results.append(("default chart, precomputed", measure_page(client, VIEW_PAGES[0][1], repeat=repeat)))
    return results


def bench_original_chart() -> dict:
    """The original app: every row into pandas, a Plotly scatter of all of them, as HTML."""
    import pandas as pd
    import plotly.express as px

    from monsters.models import Monster

    fields = ["name", "type", "level", "rarity", "damage", "health", "energy", "sanity"]

    def render() -> bytes:
        frame = pd.DataFrame(list(Monster.objects.values(*fields)))
        figure = px.scatter(frame, x="level", y="health", color="rarity", hover_data=fields)
        return figure.to_html(include_plotlyjs=False, full_html=True).encode()

    seconds, html = once(render)
    return {"seconds": seconds, "size": len(html), "gzip": gzipped(html)}


def run(count: int, *, repeat: int, log) -> str:
    pages = bench_chart_pages(repeat=repeat)
    rows = [result.row(label) for label, result in pages]
    for row in rows:
        log("   " + " | ".join(row))
    original = bench_original_chart() if count <= ORIGINAL_MAX_ROWS else None
    scatter = pages[0][1]
    lines = [
        f"### {count:,} monsters",
        "",
        f"Each page computed from scratch ({repeat} requests after a warm-up, the cache and the precomputed "
        "results emptied before each), as on a first visit after a data change before the background "
        "refresh; the last two rows are served from the precomputed results, as every later visit is. "
        "Sizes are the HTML with the figure data, without plotly.js (served once from our static files and "
        "cached by the browser).",
        "",
        "| " + " | ".join(PAGE_HEADER) + " |",
        "|" + " --- |" * 2 + " ---: |" * 4,
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    if original is not None:
        log(f"{count:,}: original chart {original['seconds']:.1f} s, {original['size'] / 1e6:.1f} MB")
        lines += [
            f"| original: a Plotly scatter of every row | | {original['seconds'] * 1000:,.0f} | | "
            f"{original['size'] / 1024:,.0f} | {original['gzip'] / 1024:,.0f} |",
            "",
            f"Scatter against the original: "
            f"{times(original['seconds'] * 1000 / scatter.server_median_ms)} faster, "
            f"{times(original['size'] / scatter.size)} smaller.",
        ]
    return "\n".join([*lines, ""])
