"""The JSON API at /api/: every app's router, who calls, their limits, and one error shape, {"message": ...}.

A call is made with an API token (`Authorization: Bearer <token>`: the
token's user is the request's user, no CSRF), or else as the session's user
or anonymously; each endpoint then decides what that user may see or do.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import HttpError, Throttled, ValidationError
from ninja.utils import check_csrf

from analytics.api import router as datasets_router
from ml.api import router as ml_router
from ml.services import ArtifactTampered, NoActiveModelVersion
from monsters.api import router as monsters_router

from .access import bearer_token, token_refused
from .throttles import ApiThrottle
from .tokens import TokenRefused

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
CSRF_FAILED = "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken, or use an API token."


def session_or_anonymous(request: HttpRequest):
    """Without a token: the session's user, or anonymous (always let in: endpoints decide).

    A signed-in browser session changes things only with the CSRF token, as
    on the site's pages, so another site cannot act in its name.
    """
    signed_in_change = request.method not in SAFE_METHODS and request.user.is_authenticated
    if signed_in_change and check_csrf(request) is not None:
        raise HttpError(403, CSRF_FAILED)
    return request.user


class BandersnatchApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """The token is optional everywhere: `{}` beside it says a call may come without one."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "security" in operation:
                    operation["security"].append({})
        return schema


api = BandersnatchApi(
    title="Bandersnatch API",
    version="1.0.0",
    description="Predict a monster's rarity with versioned models, read the monsters and every dataset, "
    "check health. [Back to Bandersnatch](/)",
    urls_namespace="api",
    auth=[bearer_token, session_or_anonymous],
    throttle=[ApiThrottle()],
)
api.add_router("/", ml_router)
api.add_router("/monsters", monsters_router)
api.add_router("/datasets", datasets_router)


def _message(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body"))
    return f"{where}: {error.get('msg', 'is not valid')}" if where else error.get("msg", "Not valid.")


@api.exception_handler(ValidationError)
def invalid_input(request, exc: ValidationError):
    return api.create_response(request, {"message": "; ".join(_message(e) for e in exc.errors)}, status=400)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


@api.exception_handler(TokenRefused)
def bad_token(request, exc: TokenRefused):
    return token_refused(exc)


@api.exception_handler(Throttled)
def throttled(request, exc: Throttled):
    """Over a limit: 429 with the seconds to wait in the message and in Retry-After (ApiThrottle)."""
    refusal = request.throttle_refusal
    response = api.create_response(request, {"message": refusal.message}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    message = str(exc) if str(exc) and "matches the given query" not in str(exc) else "Not found."
    return api.create_response(request, {"message": message}, status=404)


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc: RequestDataTooBig):
    return api.create_response(request, {"message": "The body is too large."}, status=413)


@api.exception_handler(NoActiveModelVersion)
@api.exception_handler(ArtifactTampered)
def model_unavailable(request, exc: NoActiveModelVersion | ArtifactTampered):
    """No version is active, or its stored blobs fail their checks: every endpoint says why."""
    return api.create_response(request, {"message": str(exc)}, status=503)


@api.exception_handler(RecursionError)
def too_deep(request, exc: RecursionError):
    """The net under every endpoint: a body nested a thousand deep is bad input, not a 500.

    Reading JSON (ninja's own for schema bodies, json.loads in ml.api) and
    validating it recurse once per level.  Logged, in case the recursion is a
    fault of ours instead.
    """
    logger.warning("Answered a RecursionError on %s as bad input", request.path, exc_info=exc)
    return api.create_response(request, {"message": "The body is nested too deeply to read."}, status=400)
