"""The JSON API at /api/: every app's router, and one error shape, {"message": ...}."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from ml.api import router as ml_router
from ml.services import ArtifactTampered, NoActiveModelVersion
from monsters.api import router as monsters_router

api = NinjaAPI(
    title="Bandersnatch API",
    version="1.0.0",
    description="Predict a monster's rarity with versioned models, read the monsters, check health.",
    urls_namespace="api",
)
api.add_router("/", ml_router)
api.add_router("/monsters", monsters_router)


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
