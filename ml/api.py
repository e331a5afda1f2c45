"""The JSON API of the models: health checks, model cards and predictions."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from analytics.models import Dataset
from bandersnatch.columns import Column, format_number
from bandersnatch.db import DATABASE_DOWN_MESSAGE
from bandersnatch.jobs import job_queue_health
from bandersnatch.schemas import input_schema
from monsters.columns import COLUMN

from .feedback import PredictionNotFound, prediction_feedback
from .machine import Machine
from .models import ModelVersion, PredictionLog
from .monster_features import FEATURES
from .services import active_machine, default_target, machine_for, predictions_log, records_predict

router = Router(tags=["models"])
MAX_INSTANCES = 1_000


class Error(Schema):
    message: str


# The prediction schemas are plain pydantic models: ninja's Schema reads ORM
# objects too, at a cost that shows in a batch of 1,000.


# One monster's raw fields; which are required depends on the model version's features.
MonsterStats = input_schema("MonsterStats", tuple(COLUMN[name] for name in FEATURES))


class Prediction(BaseModel):
    """A class with its confidence and every class's probability, or a number with its interval."""

    id: str | None = None  # the log entry's: feedback names it
    prediction: str | float
    confidence: float | None = None
    probabilities: dict[str, float] | None = None
    interval: list[float] | None = None
    interval_level: float | None = None
    model_version: int
    in_distribution: bool


class Predictions(BaseModel):
    predictions: list[Prediction]


class ModelCard(Schema):
    version: int
    dataset: str
    target: str
    task: str
    algorithm: str
    params: dict
    features: list[str]
    input_schema: dict
    cleaning: dict
    metrics: dict
    n_train: int
    n_test: int
    training_seconds: float
    is_active: bool
    created_at: dt.datetime
    python_version: str
    sklearn_version: str
    sha256: str

    @staticmethod
    def resolve_dataset(version: ModelVersion) -> str:
        return version.dataset.slug

    @staticmethod
    def resolve_input_schema(version: ModelVersion) -> dict:
        """One record as this version takes it, as JSON Schema (every feature required)."""
        schema = _documented(record_model(version.version, version.input_columns).model_json_schema())
        schema["required"] = list(version.features)
        return schema


class Health(Schema):
    status: str
    database: str
    model_version: int | None = None


class Readiness(Health):
    worker: str  # "ok" when one checked in lately; "not seen" is fine while no job waits


@lru_cache(maxsize=128)
def record_model(version: int | None, inputs: tuple[Column, ...]) -> type[BaseModel]:
    """One record of a version's input columns as a pydantic model, built once per version."""
    return input_schema(f"InputsOfVersion{version}", inputs)


# The prediction body, described for the docs: parse_records() checks it by
# hand, to name each problem and to ask for the version's own features.
def _documented(schema: dict) -> dict:
    """A field is left out when a version does not take it, never sent as null."""
    for field in schema["properties"].values():
        kinds = [kind for kind in field.pop("anyOf", []) if kind.get("type") != "null"]
        field.update(kinds[0] if kinds else {})
        field.pop("default", None)
    return schema


_ONE = _documented(MonsterStats.model_json_schema())
_BATCH = {
    "title": "Instances",
    "type": "object",
    "properties": {
        "instances": {"type": "array", "items": _ONE, "minItems": 1, "maxItems": MAX_INSTANCES},
    },
    "required": ["instances"],
    "additionalProperties": False,
}
PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_ONE, _BATCH]},
                "examples": {
                    "one": {"value": {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}},
                    "batch": {
                        "value": {"instances": [{"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}]}
                    },
                },
            }
        },
    }
}


# Health -----------------------------------------------------------------------


# Never throttled (throttle=[]): load balancers and monitors call them often from one address.


@router.get("/live", response={200: Health}, throttle=[], summary="Liveness: the process answers")
def live(request: HttpRequest):
    return {"status": "alive", "database": "not checked"}


@router.get(
    "/health",
    response={200: Readiness, 503: Error},
    throttle=[],
    summary="Readiness: database, active model, worker",
)
def health(request: HttpRequest):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return Status(503, {"message": DATABASE_DOWN_MESSAGE})
    machine = active_machine()  # no active or usable version: 503 (bandersnatch.api)
    queue = job_queue_health()
    if queue.stalled:
        return Status(503, {"message": queue.message})
    return {
        "status": "ok",
        "database": "ok",
        "model_version": machine.version,
        "worker": "ok" if queue.worker_seen else "not seen",
    }


# Model versions -----------------------------------------------------------------


def _visible_versions(request: HttpRequest):
    return (
        ModelVersion.objects.without_blobs()
        .filter(dataset__in=Dataset.objects.visible_to(request.user))
        .select_related("dataset")
    )


def _version(request: HttpRequest, number: int) -> ModelVersion:
    """Version `number`, when its dataset is one the caller may see; 404 otherwise."""
    version = _visible_versions(request).filter(version=number).first()
    if version is None:
        raise HttpError(404, f"No model version {number}.")
    return version


@router.get("/models", response=list[ModelCard], summary="Every model version, newest first")
def model_list(request: HttpRequest):
    return list(_visible_versions(request))


@router.get("/models/{int:number}", response={200: ModelCard, 404: Error}, summary="One version's model card")
def model_detail(request: HttpRequest, number: int):
    return _version(request, number)


@router.get("/models/{int:number}/health", response={200: Health, 404: Error, 503: Error}, throttle=[])
def model_health(request: HttpRequest, number: int):
    """200 when the version can be loaded and used, 404 when there is no such version, else 503."""
    version = _version(request, number)
    machine_for(version)
    return {"status": "ok", "database": "ok", "model_version": version.version}


# Predictions --------------------------------------------------------------------

PREDICTION_RESPONSES = {
    200: Prediction | Predictions,
    400: Error,
    404: Error,
    413: Error,
    415: Error,
    503: Error,
}


@router.post(
    "/predict",
    response=PREDICTION_RESPONSES,
    openapi_extra=PREDICT_BODY,
    exclude_none=True,
    summary="Predict a monster's rarity with the active model version",
)
def predict(request: HttpRequest):
    """One monster's fields, or {"instances": [...]} with up to 1,000 of them."""
    return _predict(request, active_machine())


@router.post(
    "/datasets/{slug}/predict",
    response=PREDICTION_RESPONSES,
    exclude_none=True,
    summary="Predict with a dataset's active model version (?target=COLUMN, default the dataset's)",
)
def dataset_predict(request: HttpRequest, slug: str, target: str = ""):
    """One row's input columns (GET /api/models/<n> gives them as JSON Schema), or {"instances": [...]}."""
    dataset = Dataset.objects.visible_to(request.user).filter(slug=slug).first()
    if dataset is None:
        raise HttpError(404, f"No dataset {slug!r}.")
    return _predict(request, active_machine(dataset.slug, target or default_target(dataset)))


@router.post(
    "/models/{int:number}/predict",
    response=PREDICTION_RESPONSES,
    openapi_extra=PREDICT_BODY,
    exclude_none=True,
    summary="Predict with one model version",
)
def predict_with_version(request: HttpRequest, number: int):
    return _predict(request, machine_for(_version(request, number)))


def _predict(request: HttpRequest, machine: Machine):
    started = time.perf_counter()
    records, single = parse_records(request, machine)
    answers = records_predict(records, machine=machine)
    latency_ms = (time.perf_counter() - started) * 1000
    predictions_log(records=records, answers=answers, source=PredictionLog.Source.API, latency_ms=latency_ms)
    return answers[0] if single else {"predictions": answers}


def json_object(request: HttpRequest, what: str) -> dict:
    """The body as a JSON object, read by hand to name each problem: 413 too big, 415 not JSON,
    400 not valid JSON (or nested deeper than Python's recursion limit lets json.loads read)
    or not an object (`what` says what it should hold)."""
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise HttpError(
            415, f"Send JSON with Content-Type: application/json, not {content_type or 'nothing'}."
        )
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.API_MAX_BODY_BYTES:
        raise HttpError(413, f"The body is larger than {settings.API_MAX_BODY_BYTES:,} bytes.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise HttpError(400, "The body is nested too deeply to read.") from None
    if not isinstance(body, dict):
        raise HttpError(400, f"The body must be a JSON object: {what}.")
    return body


def parse_records(request: HttpRequest, machine: Machine) -> tuple[list[dict], bool]:
    """The records in a prediction body, checked against the version's input columns.

    Raises HttpError naming the problem: 413 too big, 415 not JSON, 400 for a
    body that is not valid JSON (or nested deeper than Python's recursion
    limit lets json.loads read), a record missing a feature, or a value of the
    wrong kind, out of bounds, or empty where the version takes no empty cell.
    """
    body = json_object(request, 'one record, or {"instances": [...]}')
    single = "instances" not in body
    if single:
        records = [body]
    else:
        extra = sorted(set(body) - {"instances"})
        if extra:
            raise HttpError(400, f"Unknown keys: {', '.join(map(repr, extra))}.")
        records = body["instances"]
        if not isinstance(records, list) or not 1 <= len(records) <= MAX_INSTANCES:
            raise HttpError(400, f"instances must be a list of 1 to {MAX_INSTANCES:,} records.")
    inputs = {column.name: column for column in machine.inputs}
    schema = record_model(machine.version, machine.inputs)
    cleaned = []
    for index, record in enumerate(records):
        where = "" if single else f"instances[{index}]: "
        if not isinstance(record, dict):
            raise HttpError(400, f"{where}each record must be a JSON object.")
        try:
            stats = schema.model_validate(record).model_dump(exclude_unset=True)
        except SchemaError as exc:
            raise HttpError(400, where + describe(exc, inputs)) from None
        missing = [feature for feature in machine.features if feature not in stats]
        if missing:
            raise HttpError(400, f"{where}Missing keys: {', '.join(map(repr, missing))}.")
        empty = [name for name in machine.features if stats[name] is None and not inputs[name].nullable]
        if empty:
            raise HttpError(
                400, f"{where}{', '.join(map(repr, empty))} cannot be empty for this model version."
            )
        cleaned.append({feature: stats[feature] for feature in machine.features})
    return cleaned, single


def describe(error: SchemaError, inputs: dict[str, Column]) -> str:
    """Pydantic's errors as one line a client can act on."""
    unknown = [repr(str(e["loc"][-1])) for e in error.errors() if e["type"] == "extra_forbidden"]
    if unknown:
        return f"Unknown keys: {', '.join(unknown)}."
    messages = []
    for e in error.errors():
        field = ".".join(str(part) for part in e["loc"] if not isinstance(part, int) and part != "int")
        kind, context = e["type"], e.get("ctx", {})
        if kind in ("finite_number",):
            messages.append(f"'{field}' must be a finite number")
        elif kind in ("greater_than_equal", "less_than_equal"):
            low, high = inputs[field].minimum, inputs[field].maximum
            bounds = f"{format_number(low)} and {format_number(high)}"
            messages.append(f"'{field}' must be between {bounds}, not {e['input']!r}")
        elif kind == "literal_error":
            messages.append(f"'{field}' must be one of {context.get('expected', '')}, not {e['input']!r}")
        elif kind.startswith("int"):
            messages.append(f"'{field}' must be a whole number, not {e['input']!r}")
        elif kind.startswith("float"):
            messages.append(f"'{field}' must be a number, not {e['input']!r}")
        else:
            messages.append(f"'{field}': {e['msg']}")
    return "; ".join(dict.fromkeys(messages)) + "."


# Feedback -----------------------------------------------------------------------


FEEDBACK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "correct": {"type": "boolean"},
                        "value": {"description": "The true value: needed when the answer was wrong."},
                    },
                    "additionalProperties": False,
                },
                "examples": {"right": {"value": {"correct": True}}, "wrong": {"value": {"value": "Rank 2"}}},
            }
        },
    }
}


class FeedbackOut(Schema):
    id: str
    model_version: int
    prediction: str
    correct: bool | None
    value: str


@router.post(
    "/predictions/{uuid:prediction_id}/feedback",
    response={200: FeedbackOut, 400: Error, 401: Error, 403: Error, 404: Error, 413: Error, 415: Error},
    openapi_extra=FEEDBACK_BODY,
    summary="Say whether a prediction was right, and the true value (signed in)",
)
def prediction_feedback_api(request: HttpRequest, prediction_id: uuid.UUID):
    """{"correct": true}, or {"correct": false, "value": <the true value>}, or just {"value": ...}."""
    body = json_object(request, '{"correct": true|false, "value": ...}')
    extra = sorted(set(body) - {"correct", "value"})
    if extra:
        raise HttpError(400, f"Unknown keys: {', '.join(map(repr, extra))}.")
    correct, value = body.get("correct"), body.get("value")
    if correct is not None and not isinstance(correct, bool):
        raise HttpError(400, f"'correct' must be true or false, not {correct!r}.")
    if isinstance(value, dict | list):
        raise HttpError(400, "'value' must be one value (a class, a number), not a list or an object.")
    if not request.user.is_authenticated:  # a session's CSRF token was checked before (bandersnatch.api)
        raise HttpError(401, "Sign in or send an API token to give feedback.")
    try:
        entry = prediction_feedback(
            prediction_id=str(prediction_id),
            user=request.user,
            correct=correct,
            value=value,
        )
    except PredictionNotFound as exc:
        raise HttpError(404, str(exc)) from None
    except DjangoValidationError as exc:
        raise HttpError(400, exc.messages[0]) from None
    return {"id": str(entry.public_id), "model_version": entry.model_version, "prediction": entry.prediction,
            "correct": entry.feedback_correct, "value": entry.feedback_value}  # fmt: skip
