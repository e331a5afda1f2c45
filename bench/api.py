"""POST /api/predict under load: gunicorn with 2 workers, wrk on loopback, beside the original.

Needs wrk (Debian: apt-get install wrk).  The prediction log stays on: the
run checks that every answered request was logged.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass

from .django_setup import ROOT, server_environment

MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
CONNECTIONS = 16
SECONDS = 20
WORKERS = 2
BATCH = 1_000
LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
""" % json.dumps(MONSTER)  # noqa: UP031  (Lua braces)


@dataclass
class Load:
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx answers and socket errors

    def row(self, label: str) -> str:
        numbers = [self.per_second, self.p50_ms, self.p99_ms, self.max_ms]
        cells = [label, *(f"{n:,.0f}" if i == 0 else f"{n:.1f}" for i, n in enumerate(numbers))]
        cells += [f"{self.requests:,}", f"{self.errors:,}"]
        return "| " + " | ".join(cells) + " |"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, *, url: str):
    """A gunicorn server of `app` on a free port, ready when the block starts."""
    port = _free_port()
    env = {**os.environ, **server_environment(url)}
    command = [
        sys.executable, "-m", "gunicorn", app, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                _post(port, "/api/predict", MONSTER)
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"{app} did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _post(port: int, path: str, body) -> tuple[int, bytes, float]:
    data = json.dumps(body)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("POST", path, data, {"Content-Type": "application/json"})
    response = connection.getresponse()
    content = response.read()
    elapsed_ms = (time.perf_counter() - started) * 1000
    connection.close()
    return response.status, content, elapsed_ms


def wrk(port: int, *, seconds: int = SECONDS) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(LUA)
        script.flush()
        result = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name,
             f"http://127.0.0.1:{port}/api/predict"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    return parse_wrk(result.stdout)


def parse_wrk(output: str) -> Load:
    """wrk's --latency report as numbers; each read from its own line, anchored at the line's start.

    The percentiles come only from the "Latency Distribution" block: a Req/Sec
    line ending in "71.50%" holds a "50%" too.
    """

    def line(pattern: str) -> re.Match:
        found = re.search(pattern, output, re.M)
        if found is None:
            raise ValueError(f"wrk's report has no line matching {pattern!r}:\n{output}")
        return found

    def millis(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]

    block = line(r"^[ \t]*Latency Distribution[ \t]*\n((?:[ \t]*\d+(?:\.\d+)?%[ \t]+\S+[ \t]*\n)+)").group(1)
    percentiles = dict(re.findall(r"^[ \t]*(\d+(?:\.\d+)?)%[ \t]+(\S+)", block, re.M))
    socket_errors = re.search(
        r"^[ \t]*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output, re.M
    )
    non_2xx = re.search(r"^[ \t]*Non-2xx or 3xx responses: (\d+)", output, re.M)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Load(
        requests=int(line(r"^[ \t]*(\d+) requests in ").group(1)),
        per_second=float(line(r"^Requests/sec:[ \t]+([\d.]+)").group(1)),
        p50_ms=millis(percentiles["50"]),
        p99_ms=millis(percentiles["99"]),
        max_ms=millis(line(r"^[ \t]*Latency[ \t]+\S+[ \t]+\S+[ \t]+(\S+)[ \t]+\S+%[ \t]*$").group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def batch_latency(port: int, *, repeat: int) -> tuple[float, float]:
    """Median and worst round trip of a 1,000-monster batch, in ms."""
    timings = []
    for _ in range(repeat + 1):
        status, _, elapsed = _post(port, "/api/predict", {"instances": [MONSTER] * BATCH})
        if status != 200:
            raise RuntimeError(f"batch answered {status}")
        timings.append(elapsed)
    timings = timings[1:]  # the first warms the worker
    return statistics.median(timings), max(timings)


def logged_predictions() -> int:
    from ml.models import PredictionLog

    return PredictionLog.objects.count()


def run(count: int, *, repeat: int, log) -> str:
    """Train the default model on `count` monsters, then load the API and the original."""
    from ml.services import model_version_train

    if shutil.which("wrk") is None:
        log("   skipped: the api benchmark needs wrk (apt-get install wrk)")
        return "Not measured in this run: `wrk` is not installed (`apt-get install wrk`).\n"
    url = os.environ["DATABASE_URL"]
    model_version_train(seed=1, activate=True)
    before = logged_predictions()
    with gunicorn("bandersnatch.wsgi", url=url) as port:
        ours = wrk(port)
        log(f"   ours: {ours}")
        time.sleep(2)  # the log writers flush every second
        logged = logged_predictions() - before
        batch_median, batch_max = batch_latency(port, repeat=repeat)
        log(f"   batch of {BATCH:,}: median {batch_median:.1f} ms, max {batch_max:.1f} ms")
    with gunicorn("bench.original_server:app", url=url) as port:
        original = wrk(port)
        log(f"   original: {original}")
    header = "| server | requests/s | p50 ms | p99 ms | max ms | requests | errors |"
    return "\n".join(
        [
            f"### Trained on {count:,} monsters",
            "",
            f"`wrk -t2 -c{CONNECTIONS} -d{SECONDS}s` on loopback against gunicorn with {WORKERS} sync "
            "workers, on the same 2 cores; one monster per request.",
            "",
            header,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            ours.row("`POST /api/predict`, default model, prediction log on"),
            original.row("original: default random forest, one DataFrame per request (bare WSGI)"),
            "",
            f"Throughput against the original: {ours.per_second / original.per_second:,.1f}× "
            f"(p99 {original.p99_ms / ours.p99_ms:,.1f}× lower). Prediction log entries written during "
            f"the run: {logged:,} of {ours.requests:,} answered (wrk counts only the requests that "
            "finished inside its window).",
            "",
            f'A batch of {BATCH:,} monsters in one request (`{{"instances": [...]}}`), {repeat} requests '
            f"after a warm-up, client round trip: median {batch_median:.1f} ms, worst {batch_max:.1f} ms.",
            "",
        ]
    )
