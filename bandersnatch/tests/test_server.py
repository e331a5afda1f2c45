"""The web server as the Procfile starts it (gunicorn with gunicorn.conf.py), for real.

A CSV export read slowly by its client outlasts the worker timeout and still
arrives whole: with gunicorn's default sync workers the timeout watches the
request, and the worker is killed mid-download.
"""

import csv
import io
import socket
import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from bandersnatch.tests.servers import gunicorn
from monsters.models import Monster
from monsters.services import monsters_seed

TIMEOUT = 2  # seconds, on the command line (it wins over the file's 30)
MONSTERS = 150_000  # about 13 MB of CSV
READ_BYTES_PER_SECOND = 2_000_000  # so the download takes about 6 s

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
