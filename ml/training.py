"""Fit and measure a pipeline that predicts one column of a table from others.

Pure scikit-learn: a DataFrame and its column descriptions in, a fitted
pipeline and its numbers out, no ORM.  The pipeline takes raw rows, empty
cells included (ml.cleaning), so a saved model answers for any row of the
table.  The task follows the target's kind: classes for categories,
booleans and texts, numbers for numbers; an integer with few values may be
either.  The monsters keep their own feature engineering (ml.monster_features),
which is what takes the rarity model to 99 %.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KDTree
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from bandersnatch.columns import Column, columns_by_name
from monsters.columns import MONSTER_COLUMNS

from .algorithms import ALGORITHMS, CLASSIFICATION, REGRESSION, TASKS, clean_algorithm, clean_params
from .cleaning import FeaturePlan, cleaning_transformer, feature_plans, rows_to_drop
from .monster_features import DEFAULT_PARAMS, DEFAULT_TARGET, ENGINEERING, feature_steps, monster_settings
from .scoring import baseline, importances, score

MIN_ROWS = 50
MIN_CLASS_ROWS = 2
MAX_CLASSES = 100
FEW_VALUES = 20  # an integer target with at most this many values is suggested as classes
MOSTLY_UNIQUE = 0.5  # a text column with more distinct values than this share of rows is no default feature
# Probabilities whose expected calibration error on the test rows is above
# this are recalibrated (isotonic regression, cross-validated on the training rows).
CALIBRATION_LIMIT = 0.03
DETECTOR_ROWS = 20_000  # the in-distribution check remembers at most this many rows
# What a training run does, in order, as its job page shows it (progress(stage, note)).
STAGES = (
    "reading the rows",
    "fitting",
    "scoring on the test rows",
    "calibrating the probabilities",
    "measuring what each feature adds",
    "fitting the in-distribution check",
    "storing the version",
)


def no_progress(stage: int, note: str) -> None:
    """The default of fit_and_score's `progress`: report nothing."""


def task_choices(column: Column, distinct: int) -> tuple[str, ...]:
    """The tasks that can predict `column`, the suggested one first; () when it cannot be a target."""
    if column.kind == "number":
        return (REGRESSION,)
    if column.kind == "integer":
        return (CLASSIFICATION, REGRESSION) if distinct <= FEW_VALUES else (REGRESSION, CLASSIFICATION)
    if column.kind == "datetime":
        return ()
    return (CLASSIFICATION,)


def usable_features(
    columns: tuple[Column, ...], target: str, distinct: dict[str, int], rows: int
) -> list[str]:
    """The default features: every column but the target and texts whose values are mostly unique."""
    return [
        column.name
        for column in columns
        if column.name != target
        and not (column.kind == "text" and distinct.get(column.name, 0) > MOSTLY_UNIQUE * max(rows, 1))
    ]


class NeighbourCheck:
    """The in-distribution check: is an input near some row the model learned from?

    Fitted at training time on the standardised numeric features (an empty
    cell counts as the training mean): the distance from each training row to
    its nearest other row gives the yardstick, and an input further than
    DISTANCE_FACTOR times its 99.9th percentile from every training row
    (level 1 with 900 health, say) is flagged, however the model would answer.
    A k-d tree answers one input in microseconds.
    """

    QUANTILE = 0.999
    DISTANCE_FACTOR = 1.5

    def __init__(self, features: list[str]):
        self.features = list(features)

    def _values(self, rows) -> np.ndarray:
        """The numeric fields of a DataFrame or a dict of columns, as a float array."""
        return np.column_stack(
            [
                np.asarray(pd.to_numeric(pd.Series(rows[f]), errors="coerce"), dtype=float)
                for f in self.features
            ]
        )

    def _standardised(self, rows) -> np.ndarray:
        values = self._values(rows)
        values = np.where(np.isnan(values), self.mean_, values)
        return (values - self.mean_) / self.scale_

    def fit(self, frame: pd.DataFrame) -> NeighbourCheck:
        values = self._values(frame)
        self.mean_ = np.nan_to_num(np.nanmean(values, axis=0))
        spread = np.nan_to_num(np.nanstd(values, axis=0))
        self.scale_ = np.where(spread > 0, spread, 1.0)
        points = self._standardised(frame)
        self.tree_ = KDTree(points)
        nearest_other = self.tree_.query(points, k=2)[0][:, 1]
        self.threshold_ = float(np.quantile(nearest_other, self.QUANTILE) * self.DISTANCE_FACTOR)
        return self

    def predict(self, rows) -> np.ndarray:
        """1 for inputs like the training rows, -1 for the unlike ones."""
        distance = self.tree_.query(self._standardised(rows), k=1)[0][:, 0]
        return np.where(distance <= self.threshold_, 1, -1)


@dataclass
class TrainingResult:
    pipeline: Pipeline
    detector: NeighbourCheck | None
    task: str
    algorithm: str
    features: list[str]
    params: dict  # every hyperparameter, defaults included
    cleaning: dict  # the steps before the estimator, as stored with the version
    inputs: tuple[Column, ...]  # what a prediction takes: each feature, empty allowed where it may be
    metrics: dict
    n_train: int
    n_test: int
    seconds: float
    test_frame: pd.DataFrame  # held-out rows, every column: to score another version on the same rows


@dataclass(frozen=True)
class Settings:
    """What to train, checked: fit_and_score's arguments once they make sense together."""

    target: Column
    features: list[Column]
    task: str
    algorithm: str
    params: dict
    plans: list[FeaturePlan] | None  # None: the monsters' own engineering
    drop_first: bool = False
    test_size: float = 0.2

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.features]


def settings_check(
    columns: tuple[Column, ...],
    distinct: dict[str, int],
    rows: int,
    *,
    target: str,
    features=None,
    task: str | None = None,
    algorithm: str | None = None,
    params: dict | None = None,
    cleaning: dict | None = None,
    drop_first: bool = False,
    test_size: float = 0.2,
    engineered: bool = False,
) -> Settings:
    """The settings, or ValueError with one line saying what is wrong with them.

    `distinct`: each column's count of distinct values, `rows` the table's
    (for the default features and the suggested task).
    """
    by_name = columns_by_name(columns)
    if target not in by_name:
        raise ValueError(f"Unknown target column {target!r}; choose from {', '.join(by_name)}.")
    if features is None:
        features = usable_features(columns, target, distinct, rows)
    features = list(dict.fromkeys(features))  # drop repeats, keep order
    unknown = [feature for feature in features if feature not in by_name]
    if unknown:
        raise ValueError(f"Unknown feature {', '.join(unknown)}; choose from {', '.join(by_name)}.")
    if not features:
        raise ValueError("Choose at least one feature.")
    if target in features:
        raise ValueError(f"The target {target} cannot also be a feature.")
    choices = task_choices(by_name[target], distinct.get(target, 0))
    if not choices:
        raise ValueError(f"{target} holds times; a time cannot be a target.")
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose from {', '.join(TASKS)}.")
    task = task or choices[0]
    if task not in choices:
        raise ValueError(f"{target} is a {by_name[target].kind} column; it is predicted by {choices[0]}.")
    algorithm = clean_algorithm(algorithm, task)
    if not 0.05 <= test_size <= 0.5:
        raise ValueError(f"test_size must be between 0.05 and 0.5, not {test_size}.")
    chosen = [by_name[name] for name in features]
    plans = None if engineered else feature_plans(chosen, cleaning)
    if engineered:
        params = {**DEFAULT_PARAMS.get(algorithm, {}), **(params or {})}
    return Settings(by_name[target], chosen, task, algorithm, clean_params(algorithm, params), plans,
                    drop_first=drop_first, test_size=test_size)  # fmt: skip


def build_pipeline(settings: Settings, random_state: int | None) -> Pipeline:
    spec = ALGORITHMS[settings.algorithm]
    if settings.plans is None:
        steps = feature_steps(settings.names) + ([StandardScaler()] if spec.scaled else [])
    else:
        steps = [cleaning_transformer(settings.plans, scaled=spec.scaled, drop_first=settings.drop_first)]
    return make_pipeline(*steps, spec.estimator(settings.task, settings.params, random_state))


def labelled_rows(frame: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, pd.Series, dict]:
    """The rows training may use, their targets, and how many rows were left out and why.

    A row without a target teaches nothing; a row empty in a feature whose plan
    says "drop" is left out too.  Class labels are text ("3", not "3.0").
    """
    target = settings.target.name
    unlabelled = frame[target].isna()
    dropped = rows_to_drop(frame, settings.plans or []) & ~unlabelled
    kept = frame[~unlabelled & ~dropped]
    y = kept[target]
    if settings.task == CLASSIFICATION:
        y = (y.astype("int64") if settings.target.kind == "integer" else y).astype(str)
    else:
        y = y.astype(float)
    return kept, y, {"target_empty": int(unlabelled.sum()), "feature_empty": int(dropped.sum())}


def check_training_data(y: pd.Series, settings: Settings) -> None:
    """ValueError with one line when the rows cannot train a model."""
    target = settings.target.name
    if len(y) < MIN_ROWS:
        raise ValueError(f"Need at least {MIN_ROWS} rows with a {target} to train, found {len(y)}.")
    if settings.task == REGRESSION:
        if y.nunique() < 2:
            raise ValueError(f"Every {target} is {y.iloc[0]:g}: one value leaves nothing to predict.")
        return
    counts = y.value_counts()
    if len(counts) < 2:
        raise ValueError(f"Need at least two {target} classes to train, found {len(counts)}.")
    if len(counts) > MAX_CLASSES:
        advice = " Predict it as a number (regression) instead." if settings.target.is_numeric else ""
        raise ValueError(
            f"{target} has {len(counts):,} distinct values; a class target takes at most "
            f"{MAX_CLASSES}.{advice}"
        )
    small = counts[counts < MIN_CLASS_ROWS]
    if len(small):
        listed = ", ".join(f"{name} ({count})" for name, count in small.items())
        raise ValueError(f"Every {target} class needs at least {MIN_CLASS_ROWS} rows: {listed}.")


def fit_and_score(
    frame: pd.DataFrame,
    *,
    columns: tuple[Column, ...] | None = None,
    target: str = DEFAULT_TARGET,
    features=None,
    random_state: int | None = None,
    engineered: bool | None = None,
    progress=no_progress,
    **options,
) -> TrainingResult:
    """Split, fit, calibrate if needed, and measure a pipeline on `frame`.

    `columns` describe the frame's columns (default: the monsters', whose
    default features are their four numbers and whose engineering applies
    when every feature is a monster field).  `options`: task, algorithm,
    params, cleaning ({feature: {"empty", "constant"}}), drop_first,
    test_size.  `progress(stage, note)` hears of each of STAGES as it begins.
    A classification split is stratified, so every class is in both parts.
    The same frame and random_state give the same pipeline and metrics.
    ValueError (one line) for settings or data that cannot train.
    """
    started = time.perf_counter()
    if columns is None:
        columns = MONSTER_COLUMNS
        features, applies = monster_settings(features)
        engineered = applies if engineered is None else engineered
    # What settings_check reads the counts of: the target (its task) and texts (default features).
    counted = {target} | {column.name for column in columns if column.kind == "text"}
    distinct = {name: int(frame[name].nunique()) for name in frame.columns if name in counted}
    settings = settings_check(columns, distinct, len(frame), target=target, features=features,
                              engineered=bool(engineered), **options)  # fmt: skip
    rows, y, left_out = labelled_rows(frame, settings)
    check_training_data(y, settings)
    classify = settings.task == CLASSIFICATION
    train, test, y_train, y_test = train_test_split(
        rows[settings.names], y, test_size=settings.test_size, stratify=y if classify else None,
        random_state=random_state,
    )  # fmt: skip
    progress(1, f"{STAGES[1]} {ALGORITHMS[settings.algorithm].label.lower()} on {len(train):,} rows")
    pipeline = build_pipeline(settings, random_state).fit(train, y_train)
    progress(2, f"{STAGES[2]} ({len(test):,})")
    metrics = score(pipeline, test, y_test, settings.task, random_state=random_state)
    if classify:
        pipeline, metrics = _calibrated(
            pipeline, metrics, settings, train, y_train, test, y_test, random_state, progress
        )
    metrics["baseline"] = baseline(settings.task, y_train, test, y_test)
    progress(4, STAGES[4])
    metrics["feature_importance"] = importances(pipeline, test, y_test, random_state=random_state)
    metrics["left_out"] = left_out
    metrics["ranges"] = _ranges(train, settings.features)
    numeric = [column.name for column in settings.features if column.is_numeric]
    detector = None
    if numeric:
        progress(5, STAGES[5])
        sample = (
            train if len(train) <= DETECTOR_ROWS else train.sample(DETECTOR_ROWS, random_state=random_state)
        )
        detector = NeighbourCheck(numeric).fit(sample)
        metrics["in_distribution_share"] = float(np.mean(detector.predict(test) == 1))
    return TrainingResult(
        pipeline=pipeline,
        detector=detector,
        task=settings.task,
        algorithm=settings.algorithm,
        features=settings.names,
        params=settings.params,
        cleaning=_cleaning_record(settings),
        inputs=_inputs(settings, train),
        metrics=metrics,
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - started,
        test_frame=rows.loc[test.index].assign(**{settings.target.name: y_test}),
    )


def _calibrated(pipeline, metrics, settings, train, y_train, test, y_test, random_state, progress):
    """The pipeline recalibrated (isotonic) when its probabilities are off and that helps."""
    if metrics["calibration"]["ece"] > CALIBRATION_LIMIT and y_train.value_counts().min() >= 3:
        progress(3, STAGES[3])
        calibrated = CalibratedClassifierCV(build_pipeline(settings, random_state), method="isotonic", cv=3)
        calibrated.fit(train, y_train)
        calibrated_metrics = score(calibrated, test, y_test)
        if calibrated_metrics["calibration"]["ece"] < metrics["calibration"]["ece"]:
            calibrated_metrics["calibration"]["ece_before"] = metrics["calibration"]["ece"]
            pipeline, metrics = calibrated, calibrated_metrics
    metrics["calibrated"] = isinstance(pipeline, CalibratedClassifierCV)
    return pipeline, metrics


def _cleaning_record(settings: Settings) -> dict:
    """The steps before the estimator, as JSON: per feature its plan in words, or the engineering."""
    scaled = ALGORITHMS[settings.algorithm].scaled
    if settings.plans is None:
        return {"engineering": ENGINEERING + (", standardised" if scaled else ""), "features": {}}
    return {
        "drop_first": settings.drop_first,
        "scaled": scaled,
        "features": {
            plan.name: {"empty": plan.empty, "constant": plan.constant,
                        "steps": plan.describe(scaled=scaled, drop_first=settings.drop_first)}
            for plan in settings.plans
        },
    }  # fmt: skip


def _ranges(train: pd.DataFrame, features: list[Column]) -> dict:
    """The least and greatest training value of each numeric feature (ISO text for times)."""
    ranges = {}
    for column in features:
        if column.is_numeric or column.kind == "datetime":
            present = train[column.name].dropna()
            if len(present):
                low, high = present.min(), present.max()
                ranges[column.name] = [_plain(low), _plain(high)]
    return ranges


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _inputs(settings: Settings, train: pd.DataFrame) -> tuple[Column, ...]:
    """Each feature as a prediction takes it: empty allowed where training had empty cells (and
    filled them), a text's choices the values training saw when they are few."""
    plans = {plan.name: plan for plan in settings.plans or []}
    inputs = []
    for column in settings.features:
        plan = plans.get(column.name)
        had_empty = bool(train[column.name].isna().any())
        nullable = had_empty and plan is not None and plan.empty != "drop"
        choices = column.choices
        if column.kind == "text" and not choices:
            seen = train[column.name].dropna().astype(str).unique()
            choices = tuple(sorted(seen)) if len(seen) <= MAX_CLASSES else ()
        inputs.append(replace(column, nullable=nullable, choices=choices))
    return tuple(inputs)
