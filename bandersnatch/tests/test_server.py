"""The web server as the Procfile starts it (gunicorn with gunicorn.conf.py), for real.

A CSV export read slowly by its client outlasts the worker timeout and still
arrives whole: with gunicorn's default sync workers the timeout watches the
request, and the worker is killed mid-download.
"""

import concurrent.futures
import csv
import io
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from bandersnatch.tests.servers import ROOT, gunicorn, process_env
from monsters.models import Monster
from monsters.services import monsters_seed

TIMEOUT = 2  # seconds, on the command line (it wins over the file's 30)
MONSTERS = 150_000  # about 13 MB of CSV
READ_BYTES_PER_SECOND = 2_000_000  # so the download takes about 6 s
REQUESTS = 120  # to two worker processes, for the metrics' sums

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the server reads what the test wrote
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the server needs a database it can reach: the SQLite test database lives in this process",
    ),
]


def slow_download(port: int, path: str, *, cookie: str) -> tuple[bytes, bytes, float]:
    """GET `path` reading at READ_BYTES_PER_SECOND; the head, the body and the seconds it took.

    The file is a few times what the server's socket buffer takes in (about
    4 MB on loopback) and this client's is kept small, so the server is still
    sending, as fast as it is read, when the timeout passes.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        started = time.monotonic()
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode())
        received = bytearray()
        while chunk := sock.recv(16 * 1024):
            received += chunk
            time.sleep(max(0.0, started + len(received) / READ_BYTES_PER_SECOND - time.monotonic()))
        elapsed = time.monotonic() - started
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    return head, body, elapsed


def test_an_export_that_outlasts_the_worker_timeout_arrives_whole(client, django_user_model):
    monsters_seed(count=MONSTERS, seed=5)
    client.force_login(django_user_model.objects.create_user("reader", password="a-long-password-1"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    last = Monster.objects.order_by("pk").values_list("name", "health").last()

    with gunicorn("--timeout", str(TIMEOUT)) as port:
        head, body, elapsed = slow_download(port, reverse("monsters:export"), cookie=cookie)

    assert head.startswith(b"HTTP/1.0 200"), head.decode()
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:2] == ["name", "type"]
    assert len(rows) == MONSTERS + 1
    assert (rows[-1][0], float(rows[-1][5])) == last
    assert elapsed > 2 * TIMEOUT  # the download really outlasted the timeout


LIVE_ANSWERS = 'bandersnatch_http_request_duration_seconds_count{method="GET",status="200",view="api:live"}'


def get(port: int, path: str) -> bytes:
    """One request on a connection of its own (so that either worker process may take it); the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), head.decode()
    return body


def live_answers(exposition: str) -> float:
    line = next((line for line in exposition.splitlines() if line.startswith(LIVE_ANSWERS + " ")), None)
    return float(line.split()[-1]) if line else 0.0


def counted_by_each_process(metrics_dir: Path) -> dict[int, float]:
    """The live answers in each worker process's own files, read alone."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = {}
    for pid in {int(file.stem.rsplit("_", 1)[1]) for file in metrics_dir.glob("*.db")}:
        alone = metrics_dir.parent / f"alone-{pid}"
        alone.mkdir()
        for file in metrics_dir.glob(f"*_{pid}.db"):
            shutil.copy(file, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[pid] = live_answers(generate_latest(registry).decode())
    return counts


def test_two_worker_processes_add_up_into_one_scrape_and_log_json(tmp_path):
    """gunicorn.conf.py's multiprocess metrics: each worker counts in its own file, any one of them
    answers the scrape with the sum; with LOG_FORMAT=json gunicorn's own lines are JSON too."""
    metrics_dir, log = tmp_path / "metrics", tmp_path / "gunicorn.log"
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_FORMAT": "json", "WEB_CONCURRENCY": "2"}
    with open(log, "w") as stderr, gunicorn(env=process_env(**environ), stderr=stderr) as port:
        before = live_answers(get(port, "/metrics").decode())
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: get(port, "/api/live"), range(REQUESTS)))
        scrapes = [live_answers(get(port, "/metrics").decode()) for _ in range(4)]  # either worker answers
        per_process = counted_by_each_process(metrics_dir)
    assert len(per_process) == 2 and all(count > 0 for count in per_process.values()), per_process
    assert set(scrapes) == {before + REQUESTS} == {sum(per_process.values())}
    booted = [json.loads(line) for line in log.read_text().splitlines() if "Booting worker" in line]
    assert len(booted) == 2 and {record["logger"] for record in booted} == {"gunicorn.error"}


def test_without_a_metrics_directory_the_server_makes_its_own_and_removes_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    environ = {"TMPDIR": str(tmp_path)}
    printed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "bandersnatch.wsgi", "--print-config"],
        cwd=ROOT, env=process_env(**environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert not list(tmp_path.iterdir())  # reading the settings makes nothing
    with gunicorn(env=process_env(**environ)) as port:
        get(port, "/api/live")
        (own,) = tmp_path.glob("bandersnatch-metrics-*")
        assert list(own.glob("*.db"))
        assert live_answers(get(port, "/metrics").decode()) >= 1
    assert not own.exists()
