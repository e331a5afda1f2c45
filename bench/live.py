"""Seeding as a whole process beside its floor, and the site answering while a reseed runs.

Both are measured from outside: `manage.py seed` and the floor (bench/seed_floor.py)
as processes of their own, the pages through a gunicorn server with the
production settings while `manage.py seed --reset` replaces every monster.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from .api import MONSTER, gunicorn
from .django_setup import ROOT, server_environment

SEED_TARGET_RATIO = 3.0
PROBES = [
    ("GET", "/api/live"),
    ("GET", "/"),
    ("GET", "/data/"),
    ("GET", "/data/?level_min=18&sort=energy"),
    ("POST", "/api/predict"),
]


def _run(command: list[str], url: str) -> float:
    env = {**os.environ, **server_environment(url)}
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def seed_command(count: int) -> list[str]:
    return [sys.executable, "manage.py", "seed", "--count", str(count), "--reset", "--seed", "1", "-v", "0"]


def bench_seeding_process(count: int, *, url: str, runs: int = 3) -> dict:
    """Best and median wall time of `manage.py seed --reset` and of the floor, interleaved."""
    seeds, floors = [], []
    for _ in range(runs):
        floors.append(_run([sys.executable, "-m", "bench.seed_floor", str(count), url], url))
        seeds.append(_run(seed_command(count), url))
    seeds.sort()
    floors.sort()
    return {
        "runs": runs,
        "seed_best": seeds[0],
        "seed_median": seeds[len(seeds) // 2],
        "floor_best": floors[0],
        "floor_median": floors[len(floors) // 2],
        "ratio": seeds[0] / floors[0],
    }


def _probe(port: int, method: str, path: str, stop: threading.Event, results: list) -> None:
    body = json.dumps(MONSTER) if method == "POST" else None
    headers = {"Content-Type": "application/json"} if body else {}
    while not stop.is_set():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request(method, path, body, headers)
            status = connection.getresponse().status
        except OSError:
            status = 0
        finally:
            connection.close()
        results.append(((time.perf_counter() - started) * 1000, status))
        time.sleep(0.05)


def _probed(port: int, during) -> dict[str, list]:
    stop, results = threading.Event(), {path: [] for _, path in PROBES}
    threads = [
        threading.Thread(target=_probe, args=(port, method, path, stop, results[path]), daemon=True)
        for method, path in PROBES
    ]
    for thread in threads:
        thread.start()
    try:
        during()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    return results


def bench_during_reseed(count: int, *, url: str) -> dict:
    """Each probe's latencies idle for 3 s, then while `manage.py seed --reset` replaces every monster."""
    from ml.models import ModelVersion
    from ml.services import model_version_train

    if not ModelVersion.objects.filter(is_active=True).exists():
        model_version_train(seed=1, activate=True)
    with gunicorn("bandersnatch.wsgi", url=url) as port:
        idle = _probed(port, lambda: time.sleep(3))
        timing = {}
        busy = _probed(port, lambda: timing.setdefault("seconds", _run(seed_command(count), url)))
    return {"idle": idle, "busy": busy, "seconds": timing["seconds"]}


def live_section(count: int, seeding: dict, during: dict) -> list[str]:
    met = "met" if seeding["ratio"] <= SEED_TARGET_RATIO else "NOT met"
    lines = [
        f"`manage.py seed --count {count:,} --reset` as a whole process (start-up, generation, COPY into a "
        "staging table, indexes, swap) beside the floor: the same generation and binary COPY into a bare "
        "table with only an id primary key (`bench/seed_floor.py`), also a process of its own; best of "
        f"{seeding['runs']}, interleaved.",
        "",
        "| process | best s | median s |",
        "| --- | ---: | ---: |",
        f"| `manage.py seed --count {count:,} --reset` | {seeding['seed_best']:.2f} | "
        f"{seeding['seed_median']:.2f} |",
        f"| floor: generation + binary COPY into a bare table | {seeding['floor_best']:.2f} | "
        f"{seeding['floor_median']:.2f} |",
        "",
        f"Ratio {seeding['ratio']:.2f}× the floor; target at most {SEED_TARGET_RATIO:.0f}×: {met}.",
        "",
        f"The site while `manage.py seed --count {count:,} --reset` ran ({during['seconds']:.1f} s), "
        "measured from outside against gunicorn with the production settings: each page requested "
        "over and over "
        "(one client per page), beside the same pages idle.",
        "",
        "| page | idle median ms | idle worst ms | requests during the reseed | median ms | worst ms "
        "| not 200 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for _, path in PROBES:
        idle = [ms for ms, _ in during["idle"][path]]
        busy = during["busy"][path]
        times = [ms for ms, _ in busy] or [0.0]
        failed = sum(1 for _, status in busy if status != 200)
        lines.append(
            f"| `{path}` | {statistics.median(idle):.1f} | {max(idle):.1f} | {len(busy)} | "
            f"{statistics.median(times):.1f} | {max(times):.1f} | {failed} |"
        )
    lines.append("")
    return lines
