"""Faults and hostile input that once gave a 500: each answers a 4xx or 503 naming the problem."""

import socket
from contextlib import contextmanager

import pytest
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
            operations.append((method, path.replace("{number}", str(version))))
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
        ],
    )
    def test_an_api_endpoint_is_503_json(self, database_down, method, path):
        body = '{"level": 3}' if method == "POST" else ""
        response = Client(raise_request_exception=False).generic(method, path, body, "application/json")
        assert response.status_code == 503
        assert response.json() == {"message": "The database does not answer."}

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
