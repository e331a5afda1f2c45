"""Request ids: one per request, on its answer, on every log line written for it, on its predictions.

A proxy's `X-Request-ID` is kept when it is 1 to 64 letters, digits, dots,
underscores or hyphens, so what reaches the log and the database is bounded
and safe; any other value, or none, gets a new id (uuid4 hex).  The answer
carries it back in its own `X-Request-ID`.

The id lives in a context variable from the start of the request until its
response is closed (after Django has logged a 4xx or 5xx answer), so each
thread of a server keeps its own; RequestIdFilter copies it onto log records.
A background job runs under its own id the same way (request_id_set).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.core.signals import request_finished
from django.dispatch import receiver

if TYPE_CHECKING:  # gunicorn's master imports this module (for the log filter) without the rest of Django
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or job) this code runs for; None outside any."""
    return _request_id.get()


@contextmanager
def request_id_set(request_id: str) -> Iterator[None]:
    """Run the block under `request_id`, e.g. a background job under its job id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """Give each request its id (the proxy's, when valid) and return it in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        _request_id.set(request_id)  # cleared when the response is closed (below)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="bandersnatch.request_ids.forget")
def _forget_request_id(**kwargs) -> None:
    """The thread's next lines belong to no request until the next one starts."""
    _request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as `request_id` (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
