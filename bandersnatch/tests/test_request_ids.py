"""Request ids: taken from a proxy's X-Request-ID when safe, made otherwise, answered and logged."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bandersnatch.request_ids import current_request_id

ROOT = Path(__file__).resolve().parents[2]
MADE = re.compile(r"[0-9a-f]{32}")  # uuid4 hex


def not_found_record(caplog) -> logging.LogRecord:
    """The warning Django writes for a 404: a log line of the request itself."""
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    return record


class TestRoundTrip:
    @pytest.mark.parametrize(
        "given",
        ["4f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f", "0b6c1b4e-5d0f-4bb5-9a43-2f6b2c1d9e77", "req.42_a-b", "x" * 64],
    )
    def test_a_proxys_id_is_answered_and_on_the_requests_log_lines(self, client, caplog, given):
        response = client.get("/api/no-such-endpoint", HTTP_X_REQUEST_ID=given)
        assert response.status_code == 404
        assert response["X-Request-ID"] == given
        assert not_found_record(caplog).request_id == given

    @pytest.mark.parametrize(
        "given",
        [
            "x" * 65,
            "two words",
            "<script>",
            "id\u00e9",
            "a;b",
            "a/b",
            "{0b6c1b4e-5d0f-4bb5-9a43-2f6b2c1d9e77}",
        ],
    )
    def test_an_unsafe_id_is_replaced_by_a_new_one(self, client, caplog, given):
        response = client.get("/api/no-such-endpoint", HTTP_X_REQUEST_ID=given)
        made = response["X-Request-ID"]
        assert MADE.fullmatch(made)
        assert not_found_record(caplog).request_id == made

    def test_without_one_each_request_gets_its_own(self, client, caplog):
        first = client.get("/api/live")["X-Request-ID"]
        second = client.get("/api/no-such-endpoint")["X-Request-ID"]
        assert MADE.fullmatch(first) and MADE.fullmatch(second) and first != second
        assert not_found_record(caplog).request_id == second

    def test_pages_and_errors_carry_it_too(self, client, db):
        assert MADE.fullmatch(client.get("/no-such-page/")["X-Request-ID"])
        assert client.get("/", HTTP_X_REQUEST_ID="page-1")["X-Request-ID"] == "page-1"

    def test_it_ends_with_the_response(self, client):
        client.get("/api/live", HTTP_X_REQUEST_ID="gone-after")
        assert current_request_id() is None


def log_lines(code: str, **environ: str) -> list[str]:
    """Standard error of Django set up from the settings (as a server process would be)."""
    env = {key: value for key, value in os.environ.items() if key not in ("LOG_FORMAT", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT, env={**env, "DEBUG": "true", **environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


REQUEST_AND_A_LINE = (
    "import logging; from django.test import Client; "
    "Client().get('/api/no-such-endpoint', HTTP_HOST='localhost', HTTP_X_REQUEST_ID='proxy-7'); "
    "logging.getLogger('bandersnatch.test').warning('outside %s', 'any request', extra={'rows': 3})"
)


class TestLogFormat:
    def test_json_gives_one_object_per_line_with_the_request_id(self):
        lines = log_lines(REQUEST_AND_A_LINE, LOG_FORMAT="json")
        records = [json.loads(line) for line in lines]  # every line is JSON, Python's warnings too
        not_found, outside = [record for record in records if record["logger"] != "py.warnings"]
        assert {"time", "level", "logger", "message", "request_id"} <= set(not_found)
        assert not_found["level"] == "WARNING" and not_found["logger"] == "django.request"
        assert not_found["message"] == "Not Found: /api/no-such-endpoint"
        assert not_found["request_id"] == "proxy-7" and not_found["status_code"] == 404
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", not_found["time"])
        assert outside["message"] == "outside any request" and outside["request_id"] is None
        assert outside["rows"] == 3  # a record's extra fields come along

    def test_the_default_stays_the_plain_line(self):
        lines = log_lines(REQUEST_AND_A_LINE, PYTHONWARNINGS="ignore::UserWarning")  # WhiteNoise's
        assert len(lines) == 2
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING django.request: Not Found: /api/no-such-endpoint",
            lines[0],
        )
        assert lines[1].endswith(" WARNING bandersnatch.test: outside any request")

    def test_an_unknown_format_stops_start_up_with_a_clear_message(self):
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT, env={**env, "DEBUG": "true", "LOG_FORMAT": "xml"}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert result.returncode != 0
        assert "LOG_FORMAT is 'xml': use one of plain, json." in result.stderr
