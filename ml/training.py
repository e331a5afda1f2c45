"""Pipelines that predict a monster's rarity (or type) from its raw fields.

Pure scikit-learn: DataFrames in, fitted pipelines and numbers out, no ORM.
Every step is a scikit-learn, numpy or standard-library object, so a saved
pipeline loads in any Python with scikit-learn, pandas and joblib, and takes a
DataFrame of raw monster fields (extra columns are ignored).

The feature engineering: resources are interchangeable draws, so each row's
resources are sorted (smallest, middle, largest).  With the level, that makes
the rank boundaries (largest resource about (2 * level + 1) * (rank + 1))
straight lines a linear model can learn from a thousand monsters.
"""

from __future__ import annotations

import math
import operator
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KDTree, KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from monsters.columns import NUMBERS, RESOURCE_NAMES

NUMERIC_FEATURES = NUMBERS
FEATURES = (*NUMERIC_FEATURES, "type")
RESOURCES = RESOURCE_NAMES
DEFAULT_FEATURES = NUMERIC_FEATURES
TARGETS = ("rarity", "type")
DEFAULT_TARGET = "rarity"
MIN_ROWS = 50
MIN_CLASS_ROWS = 2
# Probabilities whose expected calibration error on the test rows is above
# this are recalibrated (isotonic regression, cross-validated on the training rows).
CALIBRATION_LIMIT = 0.03
DETECTOR_ROWS = 20_000  # the in-distribution check remembers at most this many rows
IMPORTANCE_ROWS = 2_000


@dataclass(frozen=True)
class Param:
    """One hyperparameter a user may set: its type, default and bounds."""

    kind: type
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""

    def clean(self, name: str, value):
        """`value` as this parameter's type, or ValueError saying what is allowed."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"{name} must be one of {', '.join(map(str, self.choices))}, not {value!r}.")
            return value
        try:
            number = self.kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a {self.kind.__name__}, not {value!r}.") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{name} must be a finite number.")
        if self.kind is int and number != float(value):
            raise ValueError(f"{name} must be a whole number, not {value!r}.")
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError(f"{name} must be between {self.low:g} and {self.high:g}, not {value}.")
        return number


@dataclass(frozen=True)
class Algorithm:
    label: str
    estimator: type
    params: dict[str, Param]
    scaled: bool  # needs standardised inputs (distances, penalised weights)
    seeded: bool  # takes a random_state


ALGORITHMS = {
    "logistic_regression": Algorithm(
        "Logistic regression",
        LogisticRegression,
        {
            "C": Param(float, 1e4, 1e-4, 1e6, help="Inverse regularisation strength."),
            "max_iter": Param(int, 5_000, 10, 100_000, help="Most solver iterations."),
        },
        scaled=True,
        seeded=False,
    ),
    "hist_gradient_boosting": Algorithm(
        "Histogram gradient boosting",
        HistGradientBoostingClassifier,
        {
            "max_iter": Param(int, 200, 10, 2_000, help="Boosting rounds."),
            "learning_rate": Param(float, 0.1, 0.001, 1.0),
            "max_leaf_nodes": Param(int, 31, 2, 255),
            "l2_regularization": Param(float, 0.0, 0.0, 100.0),
        },
        scaled=False,
        seeded=True,
    ),
    "random_forest": Algorithm(
        "Random forest",
        RandomForestClassifier,
        {
            "n_estimators": Param(int, 100, 1, 1_000, help="Trees."),
            "max_depth": Param(int, 0, 0, 100, help="0: grow until the leaves are pure."),
            "min_samples_leaf": Param(int, 1, 1, 1_000),
            "n_jobs": Param(int, 2, 1, 64, help="Cores to fit and predict with."),
        },
        scaled=False,
        seeded=True,
    ),
    "k_nearest_neighbours": Algorithm(
        "k-nearest neighbours",
        KNeighborsClassifier,
        {
            "n_neighbors": Param(int, 15, 1, 500),
            "weights": Param(str, "distance", choices=("uniform", "distance")),
        },
        scaled=True,
        seeded=False,
    ),
}
DEFAULT_ALGORITHM = "logistic_regression"


def clean_params(algorithm: str, given: dict | None = None) -> dict:
    """The algorithm's full hyperparameters: defaults, overridden by valid `given` ones."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}.")
    spec = ALGORITHMS[algorithm].params
    unknown = set(given or {}) - set(spec)
    if unknown:
        raise ValueError(
            f"Unknown parameter {', '.join(sorted(unknown))} for {algorithm}; it takes {', '.join(spec)}."
        )
    return {name: param.clean(name, (given or {}).get(name, param.default)) for name, param in spec.items()}


def clean_features(features) -> list[str]:
    features = list(dict.fromkeys(features))  # drop repeats, keep order
    unknown = [feature for feature in features if feature not in FEATURES]
    if unknown:
        raise ValueError(f"Unknown feature {', '.join(unknown)}; choose from {', '.join(FEATURES)}.")
    if not features:
        raise ValueError("Choose at least one feature.")
    return features


def feature_steps(features: list[str]):
    """The steps that turn raw fields into model inputs.

    Numeric fields are picked by name and stacked into an array (itemgetter,
    column_stack: a DataFrame or a plain dict of columns both work), the level
    negated so that one row sort leaves it first (resources are never
    negative) and puts the resources in order: [-level, smallest, middle,
    largest].  These numpy steps cost far less per prediction than a
    ColumnTransformer; with the categorical `type` one is needed anyway, for
    the one-hot encoding.
    """
    numeric = [feature for feature in NUMERIC_FEATURES if feature in features]
    if "type" in features:
        return [
            ColumnTransformer(
                [
                    *([("numbers", _after_selection(numeric), numeric)] if numeric else []),
                    ("type", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["type"]),
                ]
            )
        ]
    return _numeric_steps(numeric)


def _after_selection(numeric: list[str]):
    """The numeric steps for columns a ColumnTransformer has picked already."""
    steps = _numeric_steps(numeric)[2:]  # without the picking and stacking
    return make_pipeline(*steps) if steps else "passthrough"


def _numeric_steps(numeric: list[str]) -> list:
    if len(numeric) == 1:
        steps = [
            FunctionTransformer(operator.itemgetter(numeric[0])),
            FunctionTransformer(np.reshape, kw_args={"shape": (-1, 1)}),
        ]
    else:
        steps = [FunctionTransformer(operator.itemgetter(*numeric)), FunctionTransformer(np.column_stack)]
    if "level" in numeric and len(numeric) > 1:
        signs = np.diag([-1.0 if feature == "level" else 1.0 for feature in numeric])
        steps.append(FunctionTransformer(np.dot, kw_args={"b": signs}))
    if sum(feature in RESOURCES for feature in numeric) > 1:
        steps.append(FunctionTransformer(np.sort, kw_args={"axis": 1}))
    return steps


def engineered_names(features: list[str]) -> list[str]:
    """Names of the model inputs feature_steps() makes, in order."""
    numeric = [feature for feature in NUMERIC_FEATURES if feature in features]
    resources = [feature for feature in numeric if feature in RESOURCES]
    names = ["level"] if "level" in numeric else []
    if len(resources) > 1:
        names += ["smallest resource", "middle resource", "largest resource"][: len(resources)]
        if len(resources) == 2:
            names[-1] = "largest resource"
    else:
        names += resources
    return names + (["type (one-hot)"] if "type" in features else [])


def build_pipeline(algorithm: str, features: list[str], params: dict, random_state: int | None) -> Pipeline:
    spec = ALGORITHMS[algorithm]
    settings = dict(params)
    if algorithm == "random_forest" and not settings.get("max_depth"):
        settings["max_depth"] = None
    if spec.seeded:
        settings["random_state"] = random_state
    steps = feature_steps(features)
    if spec.scaled:
        steps.append(StandardScaler())
    steps.append(spec.estimator(**settings))
    return make_pipeline(*steps)


class NeighbourCheck:
    """The in-distribution check: is an input near some monster the model learned from?

    Fitted at training time on the standardised numeric fields: the distance
    from each training row to its nearest other row gives the yardstick, and
    an input further than DISTANCE_FACTOR times its 99.9th percentile from every
    training row (level 1 with 900 health, say) is flagged, however the
    classifier would label it.  A k-d tree answers one input in microseconds.
    """

    QUANTILE = 0.999
    DISTANCE_FACTOR = 1.5

    def __init__(self, features: list[str]):
        self.features = [feature for feature in NUMERIC_FEATURES if feature in features]

    def _values(self, rows) -> np.ndarray:
        """The numeric fields of a DataFrame or a dict of columns, as a float array."""
        return np.column_stack([np.asarray(rows[feature], dtype=float) for feature in self.features])

    def _standardised(self, rows) -> np.ndarray:
        return (self._values(rows) - self.mean_) / self.scale_

    def fit(self, frame: pd.DataFrame) -> NeighbourCheck:
        values = self._values(frame)
        self.mean_ = values.mean(axis=0)
        self.scale_ = np.where(values.std(axis=0) > 0, values.std(axis=0), 1.0)
        points = self._standardised(frame)
        self.tree_ = KDTree(points)
        nearest_other = self.tree_.query(points, k=2)[0][:, 1]
        self.threshold_ = float(np.quantile(nearest_other, self.QUANTILE) * self.DISTANCE_FACTOR)
        return self

    def predict(self, rows) -> np.ndarray:
        """1 for inputs like the training monsters, -1 for the unlike ones."""
        distance = self.tree_.query(self._standardised(rows), k=1)[0][:, 0]
        return np.where(distance <= self.threshold_, 1, -1)


def check_training_data(frame: pd.DataFrame, target: str) -> None:
    """ValueError with one line when the rows cannot train a model."""
    if len(frame) < MIN_ROWS:
        raise ValueError(f"Need at least {MIN_ROWS} monsters to train, found {len(frame)}.")
    counts = frame[target].value_counts()
    counts = counts[counts > 0]
    small = counts[counts < MIN_CLASS_ROWS]
    if len(small):
        listed = ", ".join(f"{name} ({count})" for name, count in small.items())
        raise ValueError(f"Every {target} class needs at least {MIN_CLASS_ROWS} monsters: {listed}.")
    if len(counts) < 2:
        raise ValueError(f"Need at least two {target} classes to train, found {len(counts)}.")


@dataclass
class TrainingResult:
    pipeline: Pipeline
    detector: Pipeline | None
    params: dict  # every hyperparameter, defaults included
    metrics: dict
    n_train: int
    n_test: int
    seconds: float
    test_frame: pd.DataFrame  # held-out rows, every column: to score another version on the same rows


def fit_and_score(
    frame: pd.DataFrame,
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    features=DEFAULT_FEATURES,
    target: str = DEFAULT_TARGET,
    params: dict | None = None,
    test_size: float = 0.2,
    random_state: int | None = None,
) -> TrainingResult:
    """Split, fit, calibrate if needed, and measure a pipeline on `frame`.

    The split is stratified by the target, so every class is in both parts.
    The same frame and random_state give the same pipeline and metrics.
    """
    started = time.perf_counter()
    features = clean_features(features)
    if target not in TARGETS or target in features:
        raise ValueError(f"Target must be one of {', '.join(TARGETS)} and not a feature, not {target!r}.")
    if not 0.05 <= test_size <= 0.5:
        raise ValueError(f"test_size must be between 0.05 and 0.5, not {test_size}.")
    params = clean_params(algorithm, params)
    check_training_data(frame, target)
    labels = frame[target].astype(str)
    train, test, y_train, y_test = train_test_split(
        frame[features], labels, test_size=test_size, stratify=labels, random_state=random_state
    )
    pipeline = build_pipeline(algorithm, features, params, random_state).fit(train, y_train)
    metrics = score(pipeline, test, y_test)
    if metrics["calibration"]["ece"] > CALIBRATION_LIMIT and y_train.value_counts().min() >= 3:
        calibrated = CalibratedClassifierCV(
            build_pipeline(algorithm, features, params, random_state), method="isotonic", cv=3
        ).fit(train, y_train)
        calibrated_metrics = score(calibrated, test, y_test)
        if calibrated_metrics["calibration"]["ece"] < metrics["calibration"]["ece"]:
            calibrated_metrics["calibration"]["ece_before"] = metrics["calibration"]["ece"]
            pipeline, metrics = calibrated, calibrated_metrics
    metrics["calibrated"] = isinstance(pipeline, CalibratedClassifierCV)
    metrics["feature_importance"] = importances(pipeline, test, y_test, random_state=random_state)
    numeric = [feature for feature in features if feature in NUMERIC_FEATURES]
    detector = None
    if numeric:
        rows = (
            train if len(train) <= DETECTOR_ROWS else train.sample(DETECTOR_ROWS, random_state=random_state)
        )
        detector = NeighbourCheck(features).fit(rows)
        metrics["in_distribution_share"] = float(np.mean(detector.predict(test) == 1))
    return TrainingResult(
        pipeline=pipeline,
        detector=detector,
        params=params,
        metrics=metrics,
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - started,
        test_frame=frame.loc[test.index].assign(**{target: y_test}),
    )


def score(pipeline, test: pd.DataFrame, y_test: pd.Series) -> dict:
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
    """Permutation importance of each raw field: the accuracy lost when it is shuffled."""
    if len(test) > IMPORTANCE_ROWS:
        test = test.sample(IMPORTANCE_ROWS, random_state=random_state)
        y_test = y_test.loc[test.index]
    result = permutation_importance(pipeline, test, y_test, n_repeats=3, random_state=random_state)
    return {
        feature: float(value) for feature, value in zip(test.columns, result.importances_mean, strict=True)
    }
