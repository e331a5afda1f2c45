"""The middleware's own cost per request, in-process: `python -m bench.middleware`.

wrk against gunicorn (bench/api.py) measures the whole server, and on a
shared 2-core machine its runs differ by more than a few tens of
microseconds; this takes the server and the network away.  GET /api/live
(no database, no model) goes through Django's WSGI handler in one process,
ROUNDS times REQUESTS, with the production settings and the metrics counted
in a multiprocess directory as under gunicorn: once with the metrics on, once
with METRICS_ENABLED=false (request ids stay).  Best round, microseconds per
request.  Run the same on an older commit (`git stash`, a checkout) to compare.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time

from .django_setup import ROOT

REQUESTS = 3_000
ROUNDS = 7
MODES = {"metrics on": {}, "metrics off (METRICS_ENABLED=false)": {"METRICS_ENABLED": "false"}}


def _environ() -> dict:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/api/live", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
    }  # fmt: skip


def _measure() -> float:
    """In a process set up by main(): the best round's microseconds per request."""
    import warnings

    warnings.simplefilter("ignore")  # WhiteNoise's, without collectstatic
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()

    def start_response(status, headers, exc_info=None):
        assert status.startswith("200"), status

    def one() -> None:
        response = app(_environ(), start_response)
        b"".join(response)
        response.close()

    for _ in range(REQUESTS // 10):
        one()
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            one()
        best = min(best, (time.perf_counter() - started) / REQUESTS * 1e6)
    return best


def main() -> None:
    for mode, extra in MODES.items():
        with tempfile.TemporaryDirectory() as metrics_dir:
            env = {
                **os.environ, "DEBUG": "false", "SECRET_KEY": "benchmark-only-not-secret" * 3,
                "SECURE_SSL_REDIRECT": "false", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "bandersnatch.settings", "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
                **extra,
            }  # fmt: skip
            code = "import django; django.setup(); from bench.middleware import _measure; print(_measure())"
            result = subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            )
        microseconds = float(result.stdout.strip().splitlines()[-1])
        print(f"{mode}: {microseconds:.1f} us per request (best of {ROUNDS})")


if __name__ == "__main__":
    main()
