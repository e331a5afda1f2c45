"""The app's own processes for tests that need them for real: gunicorn as the Procfile starts it
(with gunicorn.conf.py) and the background worker, on the test database.

PostgreSQL only: the SQLite test database lives in the test's own process.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, for the server process."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**settings: str) -> dict:
    """This process's environment for another one of the app's: the test database, DEBUG off."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        "WEB_CONCURRENCY": "1",
        **settings,
    }


@contextlib.contextmanager
def gunicorn(*flags: str, env: dict | None = None, stderr=None):
    """`gunicorn bandersnatch.wsgi` from the top of the repository, one worker; its port.

    Stopped with SIGTERM, gunicorn's graceful stop, when the block ends.
    """
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "bandersnatch.wsgi", "--bind", f"127.0.0.1:{port}", *flags]
    server = subprocess.Popen(command, cwd=ROOT, env=env or process_env(), stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert server.poll() is None, "gunicorn exited at start-up"
            assert time.monotonic() < deadline, "gunicorn did not start within 60 s"
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /api/live HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


@contextlib.contextmanager
def db_worker(*options: str, worker_id: str | None = None, env: dict | None = None, stdout=None):
    """`manage.py db_worker` polling every 0.1 s, with `options`; its process (killed at the end if alive).

    `stdout`: a file for its output (standard error too), else it shares this process's.
    """
    if worker_id is not None:
        options = (*options, "--worker-id", worker_id)
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
               "--interval", "0.1", *options]  # fmt: skip
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env or process_env(), stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
    )  # fmt: skip
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
