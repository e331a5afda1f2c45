"""Fuzz the JSON API from its own OpenAPI schema: whatever comes in, no answer is a 5xx.

Schemathesis generates valid and invalid requests for every operation
(wrong types, missing and extra fields, odd strings, huge numbers) and sends
them to the app in-process, with monsters and a trained model in the database.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bandersnatch.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def _keep_the_test_connection():
    """The real WSGI handler closes connections after each request, which
    would end the test's transaction; Django's own test client does this too."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.usefixtures("trained_version", "_keep_the_test_connection")
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_gets_a_server_error(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
