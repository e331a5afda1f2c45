"""The JSON API at /api/: every app's router, and one error shape, {"message": ...}."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from analytics.api import router as datasets_router
from ml.api import router as ml_router
from ml.services import ArtifactTampered, NoActiveModelVersion
from monsters.api import router as monsters_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Bandersnatch API",
    version="1.0.0",
    description="Predict a monster's rarity with versioned models, read the monsters and every dataset, "
    "check health. [Back to Bandersnatch](/)",
    urls_namespace="api",
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
