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
    ("statistics page", "/analytics/"),
]


def bench_chart_pages(*, repeat: int) -> list:
    """(label, PageResult) per page, each computed from scratch: the cache is emptied first."""
    from django.test import Client

    client = Client()
    return [(label, measure_page(client, url, repeat=repeat, clear_cache=True)) for label, url in VIEW_PAGES]


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
    original = bench_original_chart()
    log(f"{count:,}: original chart {original['seconds']:.1f} s, {original['size'] / 1e6:.1f} MB")
    scatter = pages[0][1]
    return "\n".join(
        [
            f"### {count:,} monsters",
            "",
            f"Each page computed from an empty cache ({repeat} requests after a warm-up); a cached page "
            "answers in a few milliseconds. Sizes are the HTML with the figure data, without plotly.js "
            "(served once from our static files and cached by the browser).",
            "",
            "| " + " | ".join(PAGE_HEADER) + " |",
            "|" + " --- |" * 2 + " ---: |" * 4,
            *("| " + " | ".join(row) + " |" for row in rows),
            f"| original: a Plotly scatter of every row | | {original['seconds'] * 1000:,.0f} | | "
            f"{original['size'] / 1024:,.0f} | {original['gzip'] / 1024:,.0f} |",
            "",
            f"Scatter against the original: "
            f"{times(original['seconds'] * 1000 / scatter.server_median_ms)} faster, "
            f"{times(original['size'] / scatter.size)} smaller.",
            "",
        ]
    )
