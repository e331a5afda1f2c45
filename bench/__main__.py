"""make bench: seed N monsters into a PostgreSQL database of its own and measure.

Sections: data (seeding and /data), charts (/view and /analytics/), ml
(prediction and training), api (POST /api/predict under load, needs wrk),
datasets (a generated CSV of that many rows: its load, table pages, profile),
quality (the default model on scikit-learn's real tables against a random forest),
maintenance (old prediction log entries deleted in batches against one DELETE).
Sizes default to 10,000, 100,000 and 1,000,000 monsters (1,000 too for ml,
only 1,000 for api; 200,000 old log entries for maintenance).  --write-docs rewrites each measured section of
docs/benchmarks.md between its markers, keeping the rest of the file.

    python -m bench [--only data,charts,ml,api] [--sizes 10000,100000] [--repeat 15] [--write-docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys

from .django_setup import ROOT, setup

DOCS = ROOT / "docs" / "benchmarks.md"
SECTIONS = ("data", "charts", "ml", "api", "datasets", "quality", "maintenance")
OWN_TABLES = {
    "datasets",
    "quality",
    "maintenance",
}  # sections that bring their own table: the monsters can stay
SIZES = {
    "data": [10_000, 100_000, 1_000_000],
    "charts": [10_000, 100_000, 1_000_000],
    "ml": [1_000, 100_000, 1_000_000],
    "api": [1_000],
    "datasets": [100_000, 1_000_000],
    "quality": [1_000],
    "maintenance": [200_000],
}
TITLES = {
    "data": "Seeding and the data page",
    "charts": "Charts (/view) and statistics (/analytics/)",
    "ml": "Predictions and training",
    "api": "The prediction API under load",
    "datasets": "Datasets: loading a CSV file, its table and its profile",
    "quality": "Model quality on real data",
    "maintenance": "Maintenance: deleting old prediction log entries",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="Sections to run, comma-separated.")
    parser.add_argument("--sizes", help="Monster counts, comma-separated (default: each section's own).")
    parser.add_argument("--repeat", type=int, default=15, help="Requests per page (default 15).")
    parser.add_argument("--write-docs", action="store_true", help=f"Rewrite the measured sections of {DOCS}.")
    args = parser.parse_args()
    sections = [name for name in args.only.split(",") if name]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    chosen = [int(size) for size in args.sizes.split(",")] if args.sizes else None

    url = setup()
    from monsters.services import monsters_seed

    from . import api, charts, data, datasets, maintenance, ml, quality

    runners = {
        "data": data.run,
        "charts": charts.run,
        "ml": ml.run,
        "api": api.run,
        "datasets": datasets.run,
        "quality": quality.run,
        "maintenance": maintenance.run,
    }
    results = {name: [] for name in sections}
    sizes = sorted({size for name in sections for size in (chosen or SIZES[name])})
    for count in sizes:
        wanted = [name for name in sections if count in (chosen or SIZES[name])]
        log(f"== {count:,} monsters: {', '.join(wanted)}")
        if "data" in wanted:
            results["data"].append(data.run(count, repeat=args.repeat, log=log))  # seeds `count` itself
        elif set(wanted) - OWN_TABLES:
            monsters_seed(count=count, reset=True, seed=1)
        for name in wanted:
            if name != "data":
                results[name].append(runners[name](count, repeat=args.repeat, log=log))

    where = url.rsplit("@", 1)[-1]
    header = (
        f"Measured {dt.date.today():%Y-%m-%d} with `make bench` (`python -m bench --write-docs`) on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL at `{where}`."
    )
    for name in sections:
        body = f"{header}\n\n" + "\n".join(results[name])
        print(f"\n## {TITLES[name]}\n\n{body}")
        if args.write_docs:
            write_section(name, body)


def write_section(name: str, body: str) -> None:
    """Replace the text between this section's markers in docs/benchmarks.md (or append it)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {TITLES[name]}\n\n{block}\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
