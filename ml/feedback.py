"""Feedback on predictions: was an answer right, and what was the true value.

Stored on the prediction's log entry (found by the id its answer carried),
summed up per version beside the version's test figure, and added to the
dataset as new labelled rows when its owner says so.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import Abs, Cast
from django.utils import timezone

from analytics.models import Dataset
from analytics.tables import row_model
from bandersnatch.audit import audit_record
from bandersnatch.columns import Column
from bandersnatch.models import AuditEntry

from .models import ModelVersion, PredictionLog
from .prediction_log import writer

logger = logging.getLogger(__name__)


class PredictionNotFound(Exception):
    """No stored prediction has that id, or the asker may not see its dataset."""


def _entry(prediction_id: str) -> PredictionLog:
    """The log entry of a prediction id; this process's queue is written out first if it is not stored yet."""
    found = PredictionLog.objects.filter(public_id=prediction_id).first()
    if found is None:
        writer.flush()
        found = PredictionLog.objects.filter(public_id=prediction_id).first()
    if found is None:
        raise PredictionNotFound(f"No prediction {prediction_id}.")
    return found


def prediction_feedback(
    *, prediction_id: str, user, correct: bool | None = None, value=None
) -> PredictionLog:
    """Record what `user` says of a prediction: right or wrong, and (when wrong) the true value.

    ValidationError (one line) for a value the target cannot take or an answer
    that contradicts itself; PredictionNotFound for an unknown id or a dataset
    the user may not see.  Saying it again replaces what was said.
    """
    entry = _entry(prediction_id)
    version = ModelVersion.objects.without_blobs().filter(version=entry.model_version).first()
    if version is None or not Dataset.objects.visible_to(user).filter(pk=version.dataset_id).exists():
        raise PredictionNotFound(f"No prediction {prediction_id}.")
    true = _true_value(version, value) if value not in (None, "") else None
    if true is None:
        if correct is None:
            raise ValidationError("Say whether the prediction was right, or give the true value.")
        if not correct:
            raise ValidationError(f"Give the true {version.target} when the prediction was wrong.")
        true = entry.prediction
    if version.is_regression:
        correct = correct if correct is not None else math.isclose(float(true), float(entry.prediction))
    else:
        same = true == entry.prediction
        if correct is not None and correct != same:
            raise ValidationError(
                f"The prediction said {entry.prediction}; {true} makes it {'right' if same else 'wrong'}."
            )
        correct = same
    PredictionLog.objects.filter(pk=entry.pk).update(
        feedback_correct=correct, feedback_value=true, feedback_by=user, feedback_at=timezone.now()
    )
    entry.refresh_from_db()
    logger.info(
        "Feedback on prediction %s of v%d: %s",
        prediction_id,
        version.version,
        "right" if correct else "wrong",
    )
    return entry


def _true_value(version: ModelVersion, value) -> str:
    """The true value as the log keeps predictions (a class name, or a number as text)."""
    if version.is_regression:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"The true {version.target} must be a number, not {value!r}.") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise ValidationError(f"The true {version.target} must be a finite number.")
        return str(number)
    classes = version.metrics.get("classes", [])
    text = str(value)
    if text not in classes:
        raise ValidationError(
            f"The true {version.target} must be one of {', '.join(classes)}, not {value!r}."
        )
    return text


def feedback_summary(versions) -> list[dict]:
    """Per version with feedback: how many answers were judged, and the accuracy (or the mean
    absolute error) on them beside the version's test figure."""
    summary = []
    for version in versions:
        judged = PredictionLog.objects.filter(model_version=version.version).exclude(feedback_value="")
        if version.is_regression:
            error = Abs(Cast("feedback_value", FloatField()) - Cast("prediction", FloatField()))
            figures = judged.aggregate(count=Count("pk"), figure=Avg(error))
            test = version.metrics.get("mae")
        else:
            figures = judged.aggregate(
                count=Count("pk"), right=Count("pk", filter=Q(feedback_value=F("prediction")))
            )
            figures["figure"] = figures["right"] / figures["count"] if figures["count"] else None
            test = version.metrics.get("accuracy")
        if figures["count"]:
            summary.append(
                {
                    "version": version,
                    "count": figures["count"],
                    "on_feedback": figures["figure"],
                    "on_test": test,
                    "measure": "MAE" if version.is_regression else "accuracy",
                }
            )
    return summary


def feedback_rows_pending(dataset: Dataset):
    """The log entries of this dataset's versions with a true value not yet added to it."""
    numbers = ModelVersion.objects.filter(dataset=dataset).values("version")
    return PredictionLog.objects.filter(model_version__in=numbers, feedback_added=False).exclude(
        feedback_value=""
    )


@dataclass(frozen=True)
class FeedbackRowsAdded:
    """The rows feedback_rows_add wrote (their ids, first to last: None when none) and those it left."""

    added: int
    skipped: int
    first_id: int | None = None
    last_id: int | None = None


def feedback_rows_add(*, dataset: Dataset, actor=None) -> FeedbackRowsAdded:
    """Add the pending feedback as new labelled rows of `dataset`, all together.

    A row takes the prediction's inputs and the true value as its target; one
    that would break the table's rules (a required column the model did not
    take, a value outside a column's choices) is skipped and stays pending.
    """
    if dataset.is_builtin:
        raise ValidationError("Feedback is not added to the built-in monsters.")
    targets = dict(ModelVersion.objects.filter(dataset=dataset).values_list("version", "target"))
    columns = dataset.column_list
    pending = feedback_rows_pending(dataset).order_by("pk")
    entries = list(pending.values_list("pk", "inputs", "model_version", "feedback_value"))
    rows, used = [], []
    for pk, inputs, number, true in entries:
        row = _labelled_row(columns, {**inputs, targets[number]: true})
        if row is not None:
            rows.append(row)
            used.append(pk)
    skipped = len(entries) - len(rows)
    if not rows:
        return FeedbackRowsAdded(added=0, skipped=skipped)
    model = row_model(dataset.table, dataset.columns)
    with transaction.atomic():
        created = model.objects.bulk_create([model(**row) for row in rows], batch_size=1_000)
        PredictionLog.objects.filter(pk__in=used).update(feedback_added=True)
        Dataset.objects.filter(pk=dataset.pk).update(
            row_count=F("row_count") + len(rows), updated_at=timezone.now()
        )
        audit_record(
            action=AuditEntry.Action.IMPORT,
            actor=actor,
            summary=f"Added {len(rows):,} feedback rows to {dataset.name}",
            dataset=dataset.slug,
        )
    dataset.refresh_from_db()
    ids = [row.pk for row in created]  # both databases return them (INSERT ... RETURNING)
    return FeedbackRowsAdded(added=len(rows), skipped=skipped, first_id=min(ids), last_id=max(ids))


def _labelled_row(columns: tuple[Column, ...], values: dict) -> dict | None:
    """The row as the table takes it, or None when a value does not fit its column."""
    row = {}
    for column in columns:
        value = _typed(column, values.get(column.name))
        if value is None and not column.nullable:
            return None
        if value is not None and column.problem(value) is not None:
            return None
        row[column.name] = value
    return row


def _typed(column: Column, value):
    if value is None or value == "":
        return None
    try:
        if column.kind == "integer":
            return int(float(value))
        if column.kind == "number":
            return float(value)
        if column.kind == "boolean":
            return value if isinstance(value, bool) else str(value) == "True"
        if column.kind == "datetime":
            time = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return time if time.tzinfo else time.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None
    return str(value)
