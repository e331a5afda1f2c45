"""Training, the registry of versions, and predictions from the active one."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import platform
import threading
import time
from functools import lru_cache

import joblib
import pandas as pd
import sklearn
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.pagination import count_rows
from bandersnatch.audit import audit_record
from bandersnatch.models import AuditEntry
from monsters.models import DataVersion, Monster
from monsters.services import monsters_frame

from .machine import Machine
from .models import ModelVersion, PredictionLog, Promotion
from .prediction_log import writer
from .signing import DETECTOR, PIPELINE, blob_signature, blob_signature_valid
from .training import (
    DEFAULT_ALGORITHM,
    DEFAULT_FEATURES,
    DEFAULT_TARGET,
    FEATURES,
    TARGETS,
    fit_and_score,
    score,
)

logger = logging.getLogger(__name__)


class NoActiveModelVersion(Exception):
    """No model version has been trained and activated yet."""

    def __init__(self, message: str = "No model is active: train one with manage.py train."):
        super().__init__(message)


class ArtifactTampered(Exception):
    """A stored blob fails its sha256 or its signature (so it is never unpickled), or will not load."""


def _dump(estimator) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    return buffer.getvalue()


def _fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the rows' contents, in order: the same data give the same print."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashes.tobytes()).hexdigest()


def model_version_train(
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    features=DEFAULT_FEATURES,
    target: str = DEFAULT_TARGET,
    params: dict | None = None,
    seed: int | None = None,
    test_size: float = 0.2,
    activate: bool | None = None,
    created_by=None,
) -> ModelVersion:
    """Train on every monster and store the result as the next ModelVersion.

    activate=None activates it when no version is active, or when it beats the
    active one on the new test rows (both scored on the same rows).  Slow work
    happens before the transaction; ValidationError (one line) for bad input,
    with nothing stored.
    """
    if target not in TARGETS:
        raise ValidationError(f"Unknown target {target!r}; choose from {', '.join(TARGETS)}.")
    data_version = DataVersion.current()
    frame = monsters_frame(columns=[*FEATURES, *(t for t in TARGETS if t not in FEATURES)])
    try:
        result = fit_and_score(
            frame, algorithm=algorithm, features=features, target=target, params=params,
            test_size=test_size, random_state=seed,
        )  # fmt: skip
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    artifact = _dump(result.pipeline)
    detector = _dump(result.detector) if result.detector is not None else None
    fields = {
        "algorithm": algorithm,
        "params": result.params,
        "features": list(dict.fromkeys(features)),
        "target": target,
        "metrics": result.metrics,
        "n_train": result.n_train,
        "n_test": result.n_test,
        "seed": seed,
        "training_seconds": result.seconds,
        "data_rows": len(frame),
        "data_fingerprint": _fingerprint(frame),
        "data_version": data_version,
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "artifact": artifact,
        "sha256": hashlib.sha256(artifact).hexdigest(),
        "detector": detector,
        "created_by": created_by,
    }
    if activate is None:
        activate = _beats_active(result, target=target)
    for attempt in range(3):  # another training may take the same number meanwhile
        try:
            with transaction.atomic():
                number = (ModelVersion.objects.aggregate(top=Max("version"))["top"] or 0) + 1
                version = ModelVersion.objects.create(
                    version=number, is_active=False, **fields, **_signatures(number, artifact, detector)
                )
                if activate:
                    _switch_active(version, reason=Promotion.Reason.TRAINED, actor=created_by)
                audit_record(
                    action=AuditEntry.Action.TRAIN,
                    summary=f"Trained model v{number} ({algorithm}, accuracy {version.accuracy:.2%})"
                    + (", now active" if activate else ""),
                    actor=created_by,
                    version=number,
                )
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if activate:
        forget_active_version()
    logger.info(
        "Trained model v%d (%s, accuracy %.4f, %d rows, %.1f s, active: %s)",
        version.version, algorithm, version.accuracy, len(frame), result.seconds, activate,
    )  # fmt: skip
    return version


def _beats_active(result, *, target: str) -> bool:
    """True when nothing is active, or the new pipeline is more accurate on the same test rows.

    A version that predicts another target than the active one answers another
    question, so it never replaces it by score; a broken active version (one that
    fails its checks) is replaced by any that works.
    """
    active = ModelVersion.objects.without_blobs().filter(is_active=True).first()
    if active is None:
        return True
    if active.target != target:
        return False
    try:
        machine = machine_for(active)
    except ArtifactTampered:
        return True
    test = result.test_frame
    active_accuracy = score(machine.pipeline, test[machine.features], test[target])["accuracy"]
    return result.metrics["accuracy"] > active_accuracy


def model_version_activate(*, version: ModelVersion, actor=None, reason: str = "activated") -> ModelVersion:
    """Make `version` the one active version (the database allows only one), and record it."""
    with transaction.atomic():
        previous = _switch_active(version, reason=reason, actor=actor)
        action = (
            AuditEntry.Action.ROLLBACK if reason == Promotion.Reason.ROLLBACK else AuditEntry.Action.ACTIVATE
        )
        was = f" (was v{previous.version})" if previous else ""
        audit_record(action=action, summary=f"Activated model v{version.version}{was}", actor=actor,
                     version=version.version, previous=previous.version if previous else None)  # fmt: skip
    forget_active_version()
    logger.info("Activated model v%d", version.version)
    return version


def model_version_rollback(*, actor=None) -> ModelVersion:
    """Make the version that was active before the current one active again.

    ValidationError when there is nothing to go back to.
    """
    last = Promotion.objects.select_related("previous").first()
    if last is None or last.previous is None:
        raise ValidationError("There is no earlier active version to go back to.")
    return model_version_activate(version=last.previous, actor=actor, reason=Promotion.Reason.ROLLBACK)


def _switch_active(version: ModelVersion, *, reason: str, actor) -> ModelVersion | None:
    """Make `version` the active one and record the promotion; the version it replaced.

    Call inside a transaction: the database allows one active version, so the
    old one is switched off first.
    """
    previous = ModelVersion.objects.without_blobs().filter(is_active=True).exclude(pk=version.pk).first()
    ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    Promotion.objects.create(
        version=version, previous=previous, reason=reason, activated_by=actor if actor and actor.pk else None
    )
    return previous


# Loading --------------------------------------------------------------------


def _signatures(number: int, artifact: bytes, detector: bytes | None) -> dict:
    """The signature fields of version `number`'s blobs, made with this server's key."""
    return {
        "artifact_signature": blob_signature(artifact, kind=PIPELINE, version=number),
        "detector_signature": blob_signature(detector, kind=DETECTOR, version=number) if detector else "",
    }


def _refuse(version: ModelVersion, problem: str) -> ArtifactTampered:
    logger.error("Model v%d refused: its stored %s", version.version, problem)
    return ArtifactTampered(f"Model v{version.version}'s stored {problem}.")


def model_version_artifact(version: ModelVersion) -> bytes:
    """The version's pipeline bytes, checked against their sha256 and signature (ArtifactTampered if not)."""
    artifact = bytes(version.artifact)
    if hashlib.sha256(artifact).hexdigest() != version.sha256:
        raise _refuse(version, "pipeline does not match its sha256")
    if not blob_signature_valid(artifact, version.artifact_signature, kind=PIPELINE, version=version.version):
        raise _refuse(version, "pipeline is not signed with this server's MODEL_SIGNING_KEY")
    return artifact


def model_version_detector(version: ModelVersion) -> bytes | None:
    """The version's in-distribution check bytes (None without one), checked against their signature."""
    if version.detector is None:
        return None
    detector = bytes(version.detector)
    if not blob_signature_valid(detector, version.detector_signature, kind=DETECTOR, version=version.version):
        raise _refuse(version, "in-distribution check is not signed with this server's MODEL_SIGNING_KEY")
    return detector


def model_version_sign(version: ModelVersion, *, previous_key: str = "") -> bool:
    """Sign the version's blobs with the current key; False when they carry valid signatures already.

    For an operator, after MODEL_SIGNING_KEY changed.  With `previous_key`, only
    blobs signed with it (or the current key) are signed, so a row forged in the
    meantime stays refused; without it the stored bytes are trusted as they are.
    A pipeline that does not match its sha256 is never signed.  ArtifactTampered,
    with nothing written, for a blob it refuses.
    """
    artifact = bytes(version.artifact)
    if hashlib.sha256(artifact).hexdigest() != version.sha256:
        raise _refuse(version, "pipeline does not match its sha256")
    detector = bytes(version.detector) if version.detector is not None else None
    if previous_key:
        stored = [(PIPELINE, "pipeline", artifact, version.artifact_signature)]
        if detector is not None:
            stored.append((DETECTOR, "in-distribution check", detector, version.detector_signature))
        for kind, name, blob, signature in stored:
            if not any(
                blob_signature_valid(blob, signature, kind=kind, version=version.version, key=key)
                for key in (settings.MODEL_SIGNING_KEY, previous_key)
            ):
                raise _refuse(version, f"{name} is signed with neither the current nor the previous key")
    signatures = _signatures(version.version, artifact, detector)
    if all(getattr(version, name) == value for name, value in signatures.items()):
        return False
    ModelVersion.objects.filter(pk=version.pk).update(**signatures)
    for name, value in signatures.items():
        setattr(version, name, value)
    logger.warning("Signed model v%d with the current MODEL_SIGNING_KEY", version.version)
    return True


def model_card(version: ModelVersion) -> dict:
    """What a downloaded pipeline is, needs and scored, as plain JSON data."""
    return {
        "version": version.version,
        "algorithm": version.algorithm,
        "params": version.params,
        "features": version.features,
        "target": version.target,
        "input": "a pandas DataFrame with a column per feature (extra columns are ignored)",
        "output": "predict() gives the target; predict_proba() a column per class in classes",
        "classes": version.metrics.get("classes", []),
        "metrics": version.metrics,
        "rows": {"train": version.n_train, "test": version.n_test, "table": version.data_rows},
        "data_fingerprint": version.data_fingerprint,
        "trained_at": version.created_at.isoformat(),
        "sha256": version.sha256,
        "requires": {
            "python": version.python_version,
            "scikit-learn": version.sklearn_version,
            "pandas": pd.__version__,
            "joblib": joblib.__version__,
        },
        "load_with": "joblib.load(path)",
    }


def machine_for(version: ModelVersion) -> Machine:
    """The version's Machine, loaded once per process (keyed by id and sha256) after its checks."""
    return _load(version.pk, version.sha256)


@lru_cache(maxsize=8)
def _load(pk: int, sha256: str) -> Machine:
    version = ModelVersion.objects.get(pk=pk)
    if version.sha256 != sha256:
        raise _refuse(version, "pipeline does not match its sha256")
    artifact = model_version_artifact(version)
    detector = model_version_detector(version)
    machine = Machine(
        pipeline=_unpickle(version, artifact, "pipeline"),
        features=list(version.features),
        target=version.target,
        algorithm=version.algorithm,
        version=version.version,
        trained_at=version.created_at,
        detector=_unpickle(version, detector, "in-distribution check") if detector is not None else None,
    )
    logger.info("Loaded model v%d into this process", version.version)
    return machine


def _unpickle(version: ModelVersion, blob: bytes, name: str):
    """Load a blob that passed its checks; one that still fails (signed after it broke, or
    pickled under another scikit-learn) is refused like a tampered one."""
    try:
        return joblib.load(io.BytesIO(blob))
    except Exception as exc:
        logger.exception("Model v%d refused: its stored %s cannot be loaded", version.version, name)
        raise ArtifactTampered(f"Model v{version.version}'s stored {name} cannot be loaded.") from exc


_active_lock = threading.Lock()


def active_version() -> ModelVersion:
    version = ModelVersion.objects.without_blobs().filter(is_active=True).first()
    if version is None:
        raise NoActiveModelVersion()
    return version


_active: dict = {"row": None, "checked": 0.0}
ACTIVE_CHECK_SECONDS = 1.0  # how stale this process's idea of the active version may be


def active_machine() -> Machine:
    """The active version's Machine, reloaded only after the active version changes.

    Which version is active is asked of the database at most once a second per
    process, so a busy server does not pay a query per prediction; another
    process's activation is seen within that second.
    """
    with _active_lock:
        now = time.monotonic()
        if _active["row"] is None or now - _active["checked"] > ACTIVE_CHECK_SECONDS:
            _active["row"] = ModelVersion.objects.filter(is_active=True).values_list("pk", "sha256").first()
            _active["checked"] = now
        row = _active["row"]
    if row is None:
        raise NoActiveModelVersion()
    return _load(*row)


def forget_active_version() -> None:
    """Ask the database again on the next prediction (after an activation here)."""
    _active["row"] = None


# Predicting -----------------------------------------------------------------


def rarity_predict(records: list[dict], *, machine: Machine | None = None) -> list[dict]:
    """Predictions for raw records (dicts of the machine's features), one dict each.

    Each answer: prediction, confidence, probabilities per class, model_version
    and in_distribution (False for inputs unlike the training monsters).
    """
    machine = machine or active_machine()
    rows = machine.rows(records)
    probabilities = machine.probabilities(rows)
    usual = machine.in_distribution(rows)
    classes = machine.classes
    answers = []
    for row_probabilities, in_distribution in zip(probabilities, usual, strict=True):
        best = int(row_probabilities.argmax())
        answers.append(
            {
                "prediction": classes[best],
                "confidence": float(row_probabilities[best]),
                "probabilities": {name: float(p) for name, p in zip(classes, row_probabilities, strict=True)},
                "model_version": machine.version,
                "in_distribution": bool(in_distribution),
            }
        )
    return answers


def predictions_log(*, records: list[dict], answers: list[dict], source: str, latency_ms: float) -> None:
    """Queue one log entry per answered record; stored in batches off the request path."""
    now = timezone.now()
    writer.add(
        [
            {
                "created_at": now,
                "source": source,
                "model_version": answer["model_version"],
                "inputs": record,
                "prediction": answer["prediction"],
                "confidence": answer["confidence"],
                "probabilities": answer["probabilities"],
                "in_distribution": answer["in_distribution"],
                "latency_ms": latency_ms,
            }
            for record, answer in zip(records, answers, strict=True)
        ]
    )


def predictions_prune(*, older_than_days: int) -> int:
    """Delete log entries older than the given number of days; how many went."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _ = PredictionLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def prediction_monitoring(*, days: int = 30) -> dict:
    """Predictions per day and the predicted class mix beside the active version's training mix."""
    since = timezone.now() - dt.timedelta(days=days)
    recent = PredictionLog.objects.filter(created_at__gte=since)
    per_day = list(
        recent.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"), unusual=Count("pk", filter=Q(in_distribution=False)))
        .order_by("day")
    )
    predicted = dict(recent.values_list("prediction").annotate(count=Count("pk")).order_by())
    training: dict[str, int] = {}
    version = ModelVersion.objects.without_blobs().filter(is_active=True).first()
    if version is not None:
        training = {name: row["support"] for name, row in version.metrics.get("per_class", {}).items()}
    return {
        "days": days,
        "per_day": per_day,
        "predicted": predicted,
        "training": training,
        "version": version,
    }


def data_changes_since(version: ModelVersion) -> dict:
    """How the monster table moved since `version` was trained: rows added, and whether it changed."""
    now = count_rows(Monster.objects.all())
    return {
        "new_rows": now.value - version.data_rows,
        "is_estimate": now.is_estimate,
        "changed": DataVersion.current() != version.data_version,
    }
