"""Faults and hostile input that once gave a 500: each answers a 4xx or 503 naming the problem."""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db
NESTED_1000_DEEP = "[" * 1_000 + "]" * 1_000  # 2 KB


def body_taking_operations(client, version: int) -> list[tuple[str, str]]:
    """(method, path) of every API operation that reads a body, path parameters filled in."""
    schema = client.get("/api/openapi.json").json()
    operations = []
    for path, methods in schema["paths"].items():
        for method in methods.keys() & {"post", "put", "patch"}:
            operations.append(
                (
                    method,
                    path.replace("{number}", str(version))
                    .replace("{slug}", "monsters")
                    .replace("{prediction_id}", "00000000-0000-4000-8000-000000000000"),
                )
            )
    return operations


class TestNestedJson:
    @pytest.mark.parametrize(
        "body",
        [NESTED_1000_DEEP, '{"level": ' + NESTED_1000_DEEP + "}", '{"instances": ' + NESTED_1000_DEEP + "}"],
        ids=["a list", "a field", "the instances"],
    )
    def test_every_endpoint_that_reads_a_body_answers_400(self, client, trained_version, body):
        operations = body_taking_operations(client, trained_version.version)
        assert ("post", "/api/predict") in operations
        assert ("post", f"/api/models/{trained_version.version}/predict") in operations
        assert ("post", "/api/datasets/monsters/predict") in operations
        for method, path in operations:
            response = getattr(client, method)(path, body, content_type="application/json")
            assert response.status_code == 400, path
            assert response.json() == {"message": "The body is nested too deeply to read."}, path

    def test_a_recursion_error_anywhere_in_the_api_is_a_400(self, client, trained_version, monkeypatch):
        def recursing(request, features):
            raise RecursionError("maximum recursion depth exceeded")

        monkeypatch.setattr("ml.api.parse_records", recursing)
        response = client.post("/api/predict", "{}", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"message": "The body is nested too deeply to read."}


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def connection_refused():
    """The test's own connection, pointed where no database answers, for the block.

    PostgreSQL: a closed port.  SQLite: a file that cannot be opened (the
    in-memory test database is set aside, as closing it would lose it).
    """
    settings_dict = connection.settings_dict
    saved = dict(settings_dict)
    if connection.vendor == "sqlite":
        in_memory = connection.connection
        connection.connection = None
        settings_dict["NAME"] = "/nonexistent/directory/bandersnatch.sqlite3"
        try:
            yield
        finally:
            connection.connection = in_memory
            settings_dict.update(saved)
    else:
        connection.close()
        settings_dict["PORT"] = str(closed_port())
        try:
            yield
        finally:
            connection.close()
            settings_dict.update(saved)


@pytest.fixture
def database_down(transactional_db):
    with connection_refused():
        yield


class TestDatabaseDown:
    @pytest.mark.parametrize("path", ["/data/", "/view/", "/analytics/", "/", "/monsters/1/", "/model/"])
    def test_a_page_is_503_in_the_site_look_saying_so(self, database_down, path):
        response = Client(raise_request_exception=False).get(path)
        assert response.status_code == 503
        assert response["Content-Type"] == "text/html; charset=utf-8"
        content = response.content.decode()
        assert "<h1>The database is unavailable</h1>" in content
        assert 'href="/static/css/site.css"' in content and 'class="site-header"' in content

    @pytest.mark.parametrize(
        "method, path",
        [
            ("GET", "/api/monsters"),
            ("GET", "/api/monsters/1"),
            ("GET", "/api/models"),
            ("POST", "/api/predict"),
            ("GET", "/api/health"),
        ],
    )
    def test_an_api_endpoint_is_503_json(self, database_down, method, path):
        body = '{"level": 3}' if method == "POST" else ""
        response = Client(raise_request_exception=False).generic(method, path, body, "application/json")
        assert response.status_code == 503
        assert response.json() == {"message": "The database does not answer."}

    def test_liveness_still_answers(self, database_down):
        response = Client(raise_request_exception=False).get("/api/live")
        assert response.status_code == 200

    def test_a_signed_in_visitor_whose_session_cannot_be_read_gets_the_page_too(
        self, transactional_db, django_user_model
    ):
        client = Client(raise_request_exception=False)
        client.force_login(django_user_model.objects.create_user("reader"))
        with connection_refused():
            response = client.get("/data/")
        assert response.status_code == 503
        assert "The database is unavailable" in response.content.decode()

    def test_a_fault_in_a_query_stays_a_500(self, client, monkeypatch):
        def broken(**options):
            raise OperationalError("no such table: monsters_monster")

        monkeypatch.setattr("monsters.views.monster_table_page", broken)
        response = Client(raise_request_exception=False).get("/data/")
        assert response.status_code == 500


MONSTER_JSON = b'{"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}'


class TestChunkedBodies:
    def chunked(self, client, body: bytes, *, terminated: bool, path: str = "/api/predict"):
        """POST `body` as a server hands on a chunked request: no Content-Length."""
        environ = {
            "wsgi.input": io.BytesIO(body),
            "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_TYPE": "application/json",
        }
        if terminated:
            environ["wsgi.input_terminated"] = True
        return client.generic("POST", path, **environ)

    def test_under_a_server_that_does_not_end_the_input_it_is_411(self, client, trained_version):
        response = self.chunked(client, MONSTER_JSON, terminated=False)
        assert response.status_code == 411
        assert response.json() == {"message": "Send the body with a Content-Length header, not chunked."}

    def test_a_page_gets_the_411_as_text(self, client):
        response = self.chunked(client, b"name=x", terminated=False, path="/accounts/login/")
        assert response.status_code == 411
        assert response["Content-Type"] == "text/plain; charset=utf-8"

    def test_under_a_server_that_ends_the_input_it_is_read(self, client, trained_version):
        response = self.chunked(client, MONSTER_JSON, terminated=True)
        assert response.status_code == 200
        assert response.json()["model_version"] == trained_version.version

    def test_a_chunked_body_over_the_limit_is_413(self, client, trained_version, settings):
        settings.API_MAX_BODY_BYTES = 1_000
        response = self.chunked(client, b" " * 1_001, terminated=True)
        assert response.status_code == 413
        assert response.json() == {"message": "The body is larger than 1,000 bytes."}


def database_url() -> str:
    """The test database's address, for a server in another process."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def gunicorn(**environment: str):
    """gunicorn serving the app on a free loopback port, against the test database."""
    port = closed_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,  # the model versions' signatures are keyed from it
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PREDICTION_LOG_SYNC": "true",
        "LOG_LEVEL": "WARNING",
        **environment,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bandersnatch.wsgi",
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/api/live")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def post_chunked(port: int, chunks: list[bytes]) -> tuple[int, dict]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request(
        "POST", "/api/predict", iter(chunks), {"Content-Type": "application/json"}, encode_chunked=True
    )
    response = client.getresponse()
    answer = response.status, json.loads(response.read())
    client.close()
    return answer


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a database server")
@pytest.mark.django_db(transaction=True)
def test_gunicorn_hands_on_a_chunked_body_and_it_is_read(trained_version):
    with gunicorn(API_MAX_BODY_BYTES="2000") as port:
        status, answer = post_chunked(port, [MONSTER_JSON[:20], MONSTER_JSON[20:]])
        assert status == 200
        assert answer["model_version"] == trained_version.version
        assert answer["prediction"].startswith("Rank ")
        assert post_chunked(port, [b" " * 1_000] * 3) == (
            413,
            {"message": "The body is larger than 2,000 bytes."},
        )
