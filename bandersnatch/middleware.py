"""Request timing for the footer and benchmarks; JSON errors for the API; chunked bodies; job notices."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.html import format_html

API_PREFIX = "/api/"


class ServerTimingMiddleware:
    """Stamp the request's start and answer with a `Server-Timing: app;dur=ms` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.started_at = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - request.started_at) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response


class ApiErrorsAsJsonMiddleware:
    """Under /api/, every error is JSON {"message": ...}, Django's own 404, 405 and 500 too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            message = {
                404: "No such endpoint.",
                405: f"Method {request.method} is not allowed here; use {response.get('Allow', 'another')}.",
            }.get(response.status_code, f"{response.reason_phrase}.")
            json_response = JsonResponse({"message": message}, status=response.status_code)
            if "Allow" in response:
                json_response["Allow"] = response["Allow"]
            return json_response
        return response


class ChunkedBodyMiddleware:
    """Read a body sent with `Transfer-Encoding: chunked`, which Django would take as empty.

    Django reads CONTENT_LENGTH bytes of a body, and a chunked one has none.
    A server that decodes the chunks itself and ends the input there says so
    with `wsgi.input_terminated` (gunicorn does): the body is read, up to
    API_MAX_BODY_BYTES (413 beyond).  Under any other server the body cannot
    be found, so the answer is 411 Length Required.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.get_response(request)
        if not request.META.get("wsgi.input_terminated"):
            return _refusal(request, 411, "Send the body with a Content-Length header, not chunked.")
        limit = settings.API_MAX_BODY_BYTES
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return _refusal(request, 413, f"The body is larger than {limit:,} bytes.")
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = io.BytesIO(body)  # what Django reads the body from
        return self.get_response(request)


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"message": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class JobNotificationMiddleware:
    """On the next page a user opens, say which of the jobs they started have finished."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and not request.path.startswith((API_PREFIX, "/static/", "/ops/jobs/")):
            from .jobs import jobs_finished_for

            for state in jobs_finished_for(request):
                url = reverse("job", args=[state.job.pk])
                link = format_html('<a href="{}">{}</a>', url, state.job.summary)
                if state.status == "succeeded":
                    messages.success(request, format_html("Finished: {}.", link))
                else:
                    messages.error(request, format_html("Failed: {}: {}", link, state.error))
        return self.get_response(request)
