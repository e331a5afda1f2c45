"""How well a fitted pipeline does on held-out rows, per task, beside a constant baseline.

Pure scikit-learn and numpy: a pipeline, test rows and their true targets in,
plain JSON-ready numbers out (stored as a model version's metrics).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_recall_fscore_support,
    r2_score,
    root_mean_squared_error,
)

from .algorithms import CLASSIFICATION, REGRESSION

IMPORTANCE_ROWS = 2_000
CHART_POINTS = 1_000  # test rows kept for the predicted-against-actual and residual charts
INTERVAL_LEVEL = 0.9  # a predicted number's interval holds this share of the test residuals
# The figure each task is judged by when two versions are compared ("activate if better"):
# higher is better for both.
HEADLINE = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "ece"})


def score(pipeline, test: pd.DataFrame, y_test: pd.Series, task: str = CLASSIFICATION, **options) -> dict:
    if task == REGRESSION:
        return score_regression(pipeline, test, y_test, **options)
    return score_classification(pipeline, test, y_test)


def score_classification(pipeline, test: pd.DataFrame, y_test: pd.Series) -> dict:
    """Accuracy, macro F1, per-class precision and recall, confusion matrix, log loss, calibration."""
    classes = [str(c) for c in pipeline.classes_]
    probabilities = pipeline.predict_proba(test)
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    precision, recall, _, support = precision_recall_fscore_support(
        y_test, predicted, labels=classes, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(f1_score(y_test, predicted, labels=classes, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_test, probabilities, labels=classes)),
        "classes": classes,
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "support": int(s)}
            for name, p, r, s in zip(classes, precision, recall, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_test, predicted, labels=classes).tolist(),
        "calibration": reliability(probabilities, predicted == y_test.to_numpy()),
    }


def score_regression(pipeline, test: pd.DataFrame, y_test: pd.Series, *, random_state=None) -> dict:
    """R², MAE, RMSE; the residuals' interval; a sample of (actual, predicted) for the charts."""
    actual = y_test.to_numpy(dtype=float)
    predicted = np.asarray(pipeline.predict(test), dtype=float)
    residuals = actual - predicted
    tail = (1 - INTERVAL_LEVEL) / 2
    kept = np.arange(len(actual))
    if len(kept) > CHART_POINTS:
        kept = np.sort(np.random.default_rng(random_state).choice(kept, CHART_POINTS, replace=False))
    return {
        **_regression_errors(actual, predicted),
        "interval": {
            "level": INTERVAL_LEVEL,
            "low": float(np.quantile(residuals, tail)),
            "high": float(np.quantile(residuals, 1 - tail)),
        },
        "points": {"actual": actual[kept].tolist(), "predicted": predicted[kept].tolist()},
    }


def _regression_errors(actual: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "r2": float(r2_score(actual, predicted)),
        "mae": float(mean_absolute_error(actual, predicted)),
        "rmse": float(root_mean_squared_error(actual, predicted)),
    }


def baseline(task: str, y_train: pd.Series, test: pd.DataFrame, y_test: pd.Series) -> dict:
    """A constant model's figures on the same test rows: the class mix (most frequent class), or the mean."""
    if task == REGRESSION:
        dummy = DummyRegressor(strategy="mean").fit(np.zeros((len(y_train), 1)), y_train.astype(float))
        predicted = dummy.predict(np.zeros((len(y_test), 1)))
        return {"name": "the training mean", **_regression_errors(y_test.to_numpy(dtype=float), predicted)}
    # Classes as integer codes: the metrics sort their labels, and sorting a million
    # strings costs seconds where integers cost milliseconds.
    classes = pd.Index(sorted(y_train.unique()))
    train_codes = pd.Categorical(y_train, categories=classes).codes
    test_codes = pd.Categorical(y_test, categories=classes).codes
    labels = np.arange(len(classes))
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y_train), 1)), train_codes)
    probabilities = dummy.predict_proba(np.zeros((len(y_test), 1)))
    predicted = dummy.classes_[probabilities.argmax(axis=1)]
    return {
        "name": "the most frequent class",
        "accuracy": float(accuracy_score(test_codes, predicted)),
        "macro_f1": float(f1_score(test_codes, predicted, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(log_loss(test_codes, probabilities, labels=labels)),
    }


def reliability(probabilities: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    """The reliability diagram's points: per confidence bin, mean confidence and accuracy.

    ece is the expected calibration error: the gap weighted by each bin's share.
    """
    confidence = probabilities.max(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    points, ece = [], 0.0
    for b in range(bins):
        in_bin = index == b
        if not in_bin.any():
            continue
        mean_confidence, accuracy = float(confidence[in_bin].mean()), float(correct[in_bin].mean())
        points.append({"confidence": mean_confidence, "accuracy": accuracy, "count": int(in_bin.sum())})
        ece += in_bin.mean() * abs(mean_confidence - accuracy)
    return {"bins": points, "ece": float(ece)}


def importances(pipeline, test: pd.DataFrame, y_test: pd.Series, *, random_state: int | None) -> dict:
    """Permutation importance of each raw field: the score (accuracy, or R²) lost when it is shuffled."""
    if len(test) > IMPORTANCE_ROWS:
        test = test.sample(IMPORTANCE_ROWS, random_state=random_state)
        y_test = y_test.loc[test.index]
    result = permutation_importance(pipeline, test, y_test, n_repeats=3, random_state=random_state)
    return {
        feature: float(value) for feature, value in zip(test.columns, result.importances_mean, strict=True)
    }
