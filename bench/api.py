"""POST /api/predict under load: gunicorn and wrk on loopback, beside a floor and the original.

Three servers in one run, each under gunicorn with the production settings
(gunicorn.conf.py) and the same wrk load: ours (the whole Django app), the
floor (bench/floor_server.py: the same fitted pipeline and nothing else) and
the original approach (bench/original_server.py).  Needs wrk (Debian: apt-get
install wrk).  The prediction log stays on: the run checks that every answered
request was logged.
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
WARMUP_SECONDS = 5  # each server first runs this long under the same load, not measured
WORKERS = 2
BATCH = 1_000
# The target: ours at least this share of the floor's requests/s, log on, and this p99 at CONNECTIONS.
FLOOR_SHARE = 0.6
P99_MS = 50.0
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


def _gunicorn_command(app: str, *, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """gunicorn as production runs it: from the top of the repository, so gunicorn.conf.py applies."""
    return [
        sys.executable, "-m", "gunicorn", app, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", *extra,
    ]  # fmt: skip


def server_settings(url: str) -> dict[str, str]:
    """The settings gunicorn runs with here: gunicorn.conf.py, then GUNICORN_CMD_ARGS, then our flags."""
    result = subprocess.run(
        _gunicorn_command("bandersnatch.wsgi", port=0, extra=("--print-config",)),
        cwd=ROOT, env={**os.environ, **server_environment(url)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))


@contextmanager
def gunicorn(app: str, *, url: str):
    """A gunicorn server of `app` on a free port, ready when the block starts."""
    port = _free_port()
    env = {**os.environ, **server_environment(url)}
    server = subprocess.Popen(_gunicorn_command(app, port=port), cwd=ROOT, env=env)
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
    """Train the default model on `count` monsters, then load ours, the floor and the original."""
    from ml.services import model_version_train

    if shutil.which("wrk") is None:
        log("   skipped: the api benchmark needs wrk (apt-get install wrk)")
        return "Not measured in this run: `wrk` is not installed (`apt-get install wrk`).\n"
    url = os.environ["DATABASE_URL"]
    model_version_train(seed=1, activate=True)
    settings = server_settings(url)
    with gunicorn("bandersnatch.wsgi", url=url) as port:
        wrk(port, seconds=WARMUP_SECONDS)
        time.sleep(2)  # the log writers flush every second
        before = logged_predictions()
        ours = wrk(port)
        log(f"   ours: {ours}")
        time.sleep(2)
        logged = logged_predictions() - before
        batch_median, batch_max = batch_latency(port, repeat=repeat)
        log(f"   batch of {BATCH:,}: median {batch_median:.1f} ms, max {batch_max:.1f} ms")
    with gunicorn("bench.floor_server:app", url=url) as port:
        wrk(port, seconds=WARMUP_SECONDS)
        floor = wrk(port)
        log(f"   floor: {floor}")
    with gunicorn("bench.original_server:app", url=url) as port:
        wrk(port, seconds=WARMUP_SECONDS)
        original = wrk(port)
        log(f"   original: {original}")
    share = ours.per_second / floor.per_second
    met = share >= FLOOR_SHARE and ours.p99_ms <= P99_MS and ours.errors == 0 and logged >= ours.requests
    kind = settings["worker_class"]
    if kind == "sync" and int(settings["threads"]) > 1:
        kind = "gthread"  # gunicorn's own rule: sync workers given threads run as gthread
    workers = f"{settings['workers']} {kind} workers"
    if kind == "gthread":
        workers += f" of {settings['threads']} threads"
    header = "| server | requests/s | p50 ms | p99 ms | max ms | requests | errors |"
    return "\n".join(
        [
            f"### Trained on {count:,} monsters",
            "",
            f"`wrk -t2 -c{CONNECTIONS} -d{SECONDS}s` on loopback against gunicorn with the production "
            f"settings (`gunicorn.conf.py`: {workers}, timeout {settings['timeout']} s, keep-alive "
            f"{settings['keepalive']} s), each server in turn on the same 2 cores after {WARMUP_SECONDS} s "
            "of the same load; one monster per request.",
            "",
            header,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            ours.row("`POST /api/predict`, default model, prediction log on"),
            floor.row("floor: the same fitted pipeline, JSON in and out, nothing else (bare WSGI)"),
            original.row("original: default random forest, one DataFrame per request (bare WSGI)"),
            "",
            f"Ours against the floor: {share:.2f} of its requests/s (p99 {ours.p99_ms / floor.p99_ms:,.1f}× "
            f"the floor's). Against the original: {ours.per_second / original.per_second:,.1f}× the "
            f"requests/s (p99 {original.p99_ms / ours.p99_ms:,.1f}× lower).",
            "",
            f"Target: at least {FLOOR_SHARE} of the floor with the log on, p99 at most {P99_MS:.0f} ms at "
            f"{CONNECTIONS} connections, no errors: {'met' if met else 'NOT met'} ({share:.2f} of the floor, "
            f"p99 {ours.p99_ms:.1f} ms, {ours.errors:,} errors). Prediction log entries written during the "
            f"run: {logged:,} of {ours.requests:,} answered (wrk counts only the requests that finished "
            "inside its window).",
            "",
            f'A batch of {BATCH:,} monsters in one request (`{{"instances": [...]}}`), {repeat} requests '
            f"after a warm-up, client round trip: median {batch_median:.1f} ms, worst {batch_max:.1f} ms.",
            "",
        ]
    )
