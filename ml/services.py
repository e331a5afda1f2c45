"""Training, the registry of versions, and predictions from the active one."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import platform
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

import joblib
import pandas as pd
import sklearn
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.frames import dataset_frame
from analytics.models import Dataset
from analytics.pagination import count_rows
from bandersnatch.audit import audit_record
from bandersnatch.columns import column_to_dict
from bandersnatch.db import delete_in_batches
from bandersnatch.models import AuditEntry
from bandersnatch.request_ids import current_request_id
from monsters.models import Monster
from monsters.services import monsters_dataset

from .machine import Machine
from .metrics import predictions_count
from .models import ModelVersion, PredictionLog, Promotion
from .monster_features import DEFAULT_TARGET, monster_settings
from .prediction_log import writer
from .scoring import HEADLINE, score
from .signing import DETECTOR, PIPELINE, blob_signature, blob_signature_valid
from .training import STAGES, fit_and_score, no_progress

logger = logging.getLogger(__name__)


class NoActiveModelVersion(Exception):
    """No model version of a group has been trained and activated yet."""

    def __init__(self, message: str = "No model is active: train one with manage.py train."):
        super().__init__(message)

    @classmethod
    def of_group(cls, slug: str, target: str) -> NoActiveModelVersion:
        if slug == MONSTERS and target == DEFAULT_TARGET:
            return cls()
        return cls(f"No model of {target} is active for {slug}: train one with "
                   f"manage.py train --dataset {slug} --target {target}.")  # fmt: skip


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


MONSTERS = "monsters"  # the built-in dataset's slug


def is_monsters(dataset: Dataset) -> bool:
    return dataset.is_builtin and dataset.slug == MONSTERS


def default_target(dataset: Dataset) -> str:
    """What a dataset's models predict unless told: the monsters' rarity, else the last column
    that can be a target (tables tend to keep it last)."""
    if is_monsters(dataset):
        return DEFAULT_TARGET
    targets = [column.name for column in dataset.column_list if column.kind != "datetime"]
    return targets[-1] if targets else ""


def _frame_columns(dataset: Dataset, wanted: set[str] | None) -> list[str]:
    """The dataset's columns to read, in table order: the `wanted` ones, or all."""
    return [column.name for column in dataset.column_list if wanted is None or column.name in wanted]


def model_version_train(
    *,
    dataset: Dataset | None = None,
    target: str | None = None,
    features=None,
    task: str | None = None,
    algorithm: str | None = None,
    params: dict | None = None,
    cleaning: dict | None = None,
    drop_first: bool = False,
    seed: int | None = None,
    test_size: float = 0.2,
    activate: bool | None = None,
    created_by=None,
    progress=no_progress,
) -> ModelVersion:
    """Train on every row of `dataset` (default: the monsters) and store the next ModelVersion.

    The target defaults to the dataset's (default_target); the features to
    every usable column, on the monsters to their four numbers (whose own
    engineering gives the rarity model its 99 %).  activate=None activates it
    when its group (dataset and target) has no active version, or when it beats
    the active one on the new test rows (both scored on the same rows).
    `progress(stage, note)` hears of each of training.STAGES.  Slow work happens
    before the transaction; ValidationError (one line) for bad input, with
    nothing stored.
    """
    dataset = dataset or monsters_dataset()
    target = target or default_target(dataset)
    engineered = False
    if is_monsters(dataset):
        features, engineered = monster_settings(features)
    data_version = dataset.data_version()
    # Read before the rows, as the data version: a replace in between is then reported, never missed.
    generation = Dataset.objects.values_list("generation", flat=True).get(pk=dataset.pk)
    active = ModelVersion.objects.without_blobs().of_group(dataset, target).filter(is_active=True).first()
    wanted = None if features is None else {*features, target, *(active.features if active else ())}
    progress(0, f"{STAGES[0]} of {dataset.name}")
    frame = dataset_frame(dataset, _frame_columns(dataset, wanted))
    try:
        result = fit_and_score(
            frame, columns=dataset.column_list, target=target, features=features, task=task,
            algorithm=algorithm, params=params, cleaning=cleaning, drop_first=drop_first,
            test_size=test_size, random_state=seed, engineered=engineered, progress=progress,
        )  # fmt: skip
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    progress(6, STAGES[6])
    artifact = _dump(result.pipeline)
    detector = _dump(result.detector) if result.detector is not None else None
    fields = {
        "dataset": dataset,
        "target": target,
        "task": result.task,
        "algorithm": result.algorithm,
        "params": result.params,
        "features": result.features,
        "inputs": [column_to_dict(column) for column in result.inputs],
        "cleaning": result.cleaning,
        "metrics": result.metrics,
        "n_train": result.n_train,
        "n_test": result.n_test,
        "seed": seed,
        "training_seconds": result.seconds,
        "data_rows": len(frame),
        "data_fingerprint": _fingerprint(frame),
        "data_version": data_version,
        "data_generation": generation,
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "artifact": artifact,
        "sha256": hashlib.sha256(artifact).hexdigest(),
        "detector": detector,
        "created_by": created_by,
    }
    if activate is None:
        activate = _beats(result, active)
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
                    summary=f"Trained model v{number} of {dataset.slug} {target} ({result.algorithm}, "
                    f"{version.headline_text})" + (", now active" if activate else ""),
                    actor=created_by,
                    version=number,
                )
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if activate:
        _activation_announce()
    logger.info(
        "Trained model v%d of %s %s (%s, %s, %d rows, %.1f s, active: %s)",
        version.version, dataset.slug, target, result.algorithm, version.headline_text, len(frame),
        result.seconds, activate,
    )  # fmt: skip
    return version


def training_options_of(version: ModelVersion) -> dict:
    """A version's settings as model_version_train takes them: to train again from it."""
    cleaning = version.cleaning
    return {
        "dataset": version.dataset,
        "target": version.target,
        "features": list(version.features),
        "task": version.task,
        "algorithm": version.algorithm,
        "params": dict(version.params),
        "cleaning": {
            name: {"empty": plan["empty"], "constant": plan.get("constant")}
            for name, plan in cleaning.get("features", {}).items()
        },
        "drop_first": bool(cleaning.get("drop_first", False)),
        "seed": version.seed,
        # train_test_split rounds the test rows up: the share given, to two places
        "test_size": round(version.n_test / (version.n_train + version.n_test), 2),
    }


def _beats(result, active: ModelVersion | None) -> bool:
    """True when the group has no active version, or the new pipeline scores better on the same test rows.

    Both versions predict the same target of the same dataset (a group); one
    that answers another task (an integer as classes, or as a number) is never
    replaced by score.  A broken active version (one that fails its checks)
    is replaced by any that works.
    """
    if active is None:
        return True
    if active.task != result.task:
        return False
    try:
        machine = machine_for(active)
    except ArtifactTampered:
        return True
    test = result.test_frame
    if any(feature not in test for feature in machine.features):
        return False
    headline = HEADLINE[result.task]
    theirs = score(machine.pipeline, test[machine.features], test[active.target], result.task)[headline]
    return result.metrics[headline] > theirs


def model_version_activate(*, version: ModelVersion, actor=None, reason: str = "activated") -> ModelVersion:
    """Make `version` its group's one active version (the database allows only one), and record it."""
    with transaction.atomic():
        previous = _switch_active(version, reason=reason, actor=actor)
        action = (
            AuditEntry.Action.ROLLBACK if reason == Promotion.Reason.ROLLBACK else AuditEntry.Action.ACTIVATE
        )
        was = f" (was v{previous.version})" if previous else ""
        audit_record(action=action, summary=f"Activated model v{version.version}{was}", actor=actor,
                     version=version.version, previous=previous.version if previous else None)  # fmt: skip
    _activation_announce()
    logger.info("Activated model v%d", version.version)
    return version


def group_promotions(dataset: Dataset, target: str):
    """The promotion history of one group (dataset and target), newest first."""
    return Promotion.objects.filter(version__dataset=dataset, version__target=target)


def model_version_rollback(
    *, dataset: Dataset | None = None, target: str | None = None, actor=None
) -> ModelVersion:
    """Make the version that was active in the group before the current one active again.

    The group defaults to the monsters' rarity.  ValidationError when there is
    nothing to go back to.
    """
    dataset = dataset or monsters_dataset()
    last = group_promotions(dataset, target or default_target(dataset)).select_related("previous").first()
    if last is None or last.previous is None:
        raise ValidationError("There is no earlier active version to go back to.")
    return model_version_activate(version=last.previous, actor=actor, reason=Promotion.Reason.ROLLBACK)


def _switch_active(version: ModelVersion, *, reason: str, actor) -> ModelVersion | None:
    """Make `version` its group's active one and record the promotion; the version it replaced.

    Call inside a transaction: the database allows one active version per
    group, so the old one is switched off first.
    """
    group = ModelVersion.objects.of_group(version.dataset_id, version.target).exclude(pk=version.pk)
    previous = group.without_blobs().filter(is_active=True).first()
    group.filter(is_active=True).update(is_active=False)
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
    regression = version.is_regression
    return {
        "version": version.version,
        "dataset": version.dataset.slug,
        "target": version.target,
        "task": version.task,
        "algorithm": version.algorithm,
        "params": version.params,
        "features": version.features,
        "inputs": version.inputs,
        "cleaning": version.cleaning,
        "input": "a pandas DataFrame with a column per feature, empty cells as None or NaN "
        "(extra columns are ignored)",
        "output": "predict() gives the predicted number; the interval adds the test residuals' quantiles"
        if regression
        else "predict() gives the class; predict_proba() a column per class in classes",
        "classes": version.metrics.get("classes", []),
        "interval": version.metrics.get("interval"),
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
            **(
                {}
                if "engineering" in version.cleaning
                else {"bandersnatch": "ml.cleaning (its transformers)"}
            ),
        },
        "load_with": "joblib.load(path)",
    }


def machine_for(version: ModelVersion) -> Machine:
    """The version's Machine, loaded once per process (keyed by id and sha256) after its checks."""
    return _load(version.pk, version.sha256)


@lru_cache(maxsize=16)
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
        task=version.task,
        interval=version.metrics.get("interval"),
        inputs=version.input_columns,
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


def _group_active(slug: str, target: str):
    return ModelVersion.objects.filter(is_active=True, dataset__slug=slug, target=target)


def active_version(slug: str = MONSTERS, target: str = DEFAULT_TARGET) -> ModelVersion:
    """The active version of a group (default: the monsters' rarity)."""
    version = _group_active(slug, target).without_blobs().select_related("dataset").first()
    if version is None:
        raise NoActiveModelVersion.of_group(slug, target)
    return version


_active_lock = threading.Lock()
# group -> (pk and sha256, when checked, the shared generation then)
_active: dict[tuple[str, str], tuple[tuple | None, float, str | None]] = {}
ACTIVE_CHECK_SECONDS = 1.0  # how stale this process's idea of the active version may be
ACTIVE_GENERATION = "ml:active-generation"  # in the shared cache: changes with every activation


def active_machine(slug: str = MONSTERS, target: str = DEFAULT_TARGET) -> Machine:
    """The active version's Machine of a group, reloaded only after the active version changes.

    Which version is active is asked of the database at most once a second per
    process and group, so a busy server does not pay a query per prediction,
    and at once when the shared cache says an activation happened since: with
    CACHE_URL shared by every host (Redis), an activation on one host answers
    the next prediction on any other.
    """
    generation = cache.get(ACTIVE_GENERATION)
    with _active_lock:
        now = time.monotonic()
        row, checked, seen = _active.get((slug, target), (None, 0.0, None))
        if row is None or now - checked > ACTIVE_CHECK_SECONDS or seen != generation:
            row = _group_active(slug, target).values_list("pk", "sha256").first()
            _active[(slug, target)] = (row, now, generation)
    if row is None:
        raise NoActiveModelVersion.of_group(slug, target)
    return _load(*row)


def forget_active_version() -> None:
    """Ask the database again on the next prediction in this process."""
    _active.clear()


def _activation_announce() -> None:
    """An activation: every process asks the database again on its next prediction, this one at
    once, those sharing the cache once it is committed (so none reads the old version again)."""
    forget_active_version()
    transaction.on_commit(lambda: cache.set(ACTIVE_GENERATION, uuid.uuid4().hex, timeout=None))


# Predicting -----------------------------------------------------------------


def records_predict(records: list[dict], *, machine: Machine | None = None) -> list[dict]:
    """Predictions for raw records (dicts of the machine's features), one answer each (Machine.answers)."""
    return (machine or active_machine()).answers(records)


def predictions_log(*, records: list[dict], answers: list[dict], source: str, latency_ms: float) -> None:
    """Queue one log entry per answered record; stored in batches off the request path.

    Each answer gains the `id` of its entry, by which feedback finds it; each
    entry keeps the id of the request that asked, and /metrics counts them.
    """
    now = timezone.now()
    request_id = current_request_id() or ""
    for answer in answers:
        answer["id"] = str(uuid.uuid4())
    predictions_count(answers, source=source)
    writer.add(
        [
            {
                "created_at": now,
                "source": source,
                "model_version": answer["model_version"],
                "inputs": _json_ready(record),
                "prediction": str(answer["prediction"]),
                "confidence": answer.get("confidence"),
                "probabilities": answer.get("probabilities", {}),
                "in_distribution": answer["in_distribution"],
                "latency_ms": latency_ms,
                "public_id": answer["id"],
                "request_id": request_id,
            }
            for record, answer in zip(records, answers, strict=True)
        ]
    )


def _json_ready(record: dict) -> dict:
    """A record as JSON holds it: times as ISO text."""
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in record.items()}


def predictions_prune(*, older_than_days: int) -> int:
    """Delete log entries older than the given number of days, in batches; how many went."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    return delete_in_batches(PredictionLog.objects.filter(created_at__lt=cutoff))


def prediction_monitoring(*, days: int = 30, slug: str = MONSTERS, target: str = DEFAULT_TARGET) -> dict:
    """A group's predictions per day and the predicted class mix beside the active version's training mix."""
    since = timezone.now() - dt.timedelta(days=days)
    numbers = ModelVersion.objects.filter(dataset__slug=slug, target=target).values("version")
    recent = PredictionLog.objects.filter(created_at__gte=since, model_version__in=numbers)
    per_day = list(
        recent.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"), unusual=Count("pk", filter=Q(in_distribution=False)))
        .order_by("day")
    )
    predicted = dict(recent.values_list("prediction").annotate(count=Count("pk")).order_by())
    training: dict[str, int] = {}
    version = _group_active(slug, target).without_blobs().first()
    if version is not None:
        training = {name: row["support"] for name, row in version.metrics.get("per_class", {}).items()}
    return {
        "days": days,
        "per_day": per_day,
        "predicted": predicted,
        "training": training,
        "version": version,
    }


@dataclass(frozen=True)
class DataChanges:
    """How a version's dataset moved since it was trained, as its card says it."""

    replaced: bool  # every row was replaced: the rows counted below are other rows
    new_rows: int  # rows now less rows then (an estimate on a large monster table)
    is_estimate: bool
    changed: bool  # any change at all, rows added or not
    noun: str  # what a row is called: "monsters" or "rows"

    @property
    def summary(self) -> str:
        """The card's badge: "" when nothing changed."""
        if self.replaced:
            return "trained on data that has since been replaced"
        if self.new_rows > 0:
            noun = self.noun if self.new_rows != 1 else self.noun.removesuffix("s")
            return f"+{self.new_rows:,} {noun}" + (" (about)" if self.is_estimate else "")
        return "data changed since training" if self.changed else ""

    @property
    def explanation(self) -> str:
        """The badge's title: what it means."""
        if self.replaced:
            return "Every row was replaced (a reseed, a replacing import or a reload) after it was trained"
        if self.new_rows > 0:
            return f"{self.noun.capitalize()} added since this model was trained"
        return "The data changed since this model was trained"


def data_changes_since(version: ModelVersion) -> DataChanges:
    """How the dataset moved since `version` was trained: replaced, rows added, or changed."""
    dataset = version.dataset
    if version.trained_on_replaced_data:  # then counting the rows would compare other rows
        rows, is_estimate = version.data_rows, False
    elif is_monsters(dataset):
        now = count_rows(Monster.objects.all())
        rows, is_estimate = now.value, now.is_estimate
    else:
        rows, is_estimate = dataset.row_count, False
    return DataChanges(
        replaced=version.trained_on_replaced_data,
        new_rows=rows - version.data_rows,
        is_estimate=is_estimate,
        changed=dataset.data_version() != version.data_version,
        noun="monsters" if dataset.is_builtin else "rows",
    )
