"""The Machine: a fitted pipeline with what it needs to answer and to explain itself.

In the spirit of the original app's Machine: build it from a DataFrame, call it
on a DataFrame of features for (prediction, confidence), save() and open() it
with joblib, and ask info() what it is.  A Machine predicts classes (with
their probabilities) or numbers (with the interval the test residuals give).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .algorithms import CLASSIFICATION, DEFAULT_ALGORITHM, REGRESSION
from .monster_features import DEFAULT_TARGET
from .training import fit_and_score


@dataclass
class Machine:
    pipeline: object  # a fitted scikit-learn estimator taking a DataFrame of raw fields
    features: list[str]
    target: str = DEFAULT_TARGET
    algorithm: str = DEFAULT_ALGORITHM
    version: int | None = None
    trained_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    detector: object | None = None  # in-distribution check: predict() gives 1 (like) or -1
    task: str = CLASSIFICATION
    interval: dict | None = None  # regression: {"level", "low", "high"}, the test residuals' quantiles
    inputs: tuple = ()  # the input columns (bandersnatch.columns.Column): what a prediction takes

    @classmethod
    def from_frame(cls, df: pd.DataFrame, **options) -> Machine:
        """Train on `df` (options as training.fit_and_score takes them)."""
        result = fit_and_score(df, **options)
        return cls(
            pipeline=result.pipeline,
            features=result.features,
            target=options.get("target", DEFAULT_TARGET),
            algorithm=result.algorithm,
            detector=result.detector,
            task=result.task,
            interval=result.metrics.get("interval"),
            inputs=result.inputs,
        )

    @property
    def is_regression(self) -> bool:
        return self.task == REGRESSION

    @property
    def classes(self) -> list[str]:
        return [] if self.is_regression else [str(c) for c in self.pipeline.classes_]

    def __call__(self, pred_basis: pd.DataFrame) -> tuple[str | float, float | None]:
        """The prediction for the first row of `pred_basis`, and its confidence (None for a number)."""
        if self.is_regression:
            return float(self.pipeline.predict(pred_basis)[0]), None
        probabilities = self.pipeline.predict_proba(pred_basis)[0]
        best = int(np.argmax(probabilities))
        return self.classes[best], float(probabilities[best])

    def rows(self, records: list[dict]):
        """The model's input for raw records (dicts of the features).

        The monsters' numeric pipeline takes a dict of column arrays, several
        times cheaper than a DataFrame for a few rows; a pipeline that picks
        columns by name (ColumnTransformer: the cleaning steps, the one-hot
        step of `type`) and a calibrated ensemble (which counts rows with
        len()) need a DataFrame.
        """
        if not isinstance(self.pipeline, Pipeline) or isinstance(self.pipeline[0], ColumnTransformer):
            return pd.DataFrame.from_records(records, columns=self.features)
        return {
            feature: np.array([record[feature] for record in records], dtype=float)
            for feature in self.features
        }

    def probabilities(self, rows) -> np.ndarray:
        """Class probabilities per input row (columns in `classes` order).

        `rows`: a DataFrame of raw fields, or a dict of equal-length columns.
        """
        return self.pipeline.predict_proba(rows)

    def values(self, rows) -> np.ndarray:
        """Predicted numbers per input row (regression)."""
        return np.asarray(self.pipeline.predict(rows), dtype=float)

    def in_distribution(self, rows) -> np.ndarray:
        """True where a row looks like the rows the model learned from."""
        if self.detector is None:
            return np.ones(len(next(iter(rows.values())) if isinstance(rows, dict) else rows), dtype=bool)
        return self.detector.predict(rows) == 1

    def answers(self, records: list[dict]) -> list[dict]:
        """One answer per record: the prediction, and per class its probability or the interval.

        Each answer: prediction, model_version, in_distribution (False for
        inputs unlike the training rows), and confidence with probabilities
        (classes) or interval (numbers).
        """
        rows = self.rows(records)
        usual = self.in_distribution(rows)
        if self.is_regression:
            interval = self.interval or {"level": None, "low": 0.0, "high": 0.0}
            low, high = interval["low"], interval["high"]
            return [
                {"prediction": float(value), "interval": [float(value + low), float(value + high)],
                 "interval_level": interval["level"], "model_version": self.version,
                 "in_distribution": bool(in_distribution)}
                for value, in_distribution in zip(self.values(rows), usual, strict=True)
            ]  # fmt: skip
        classes = self.classes
        answers = []
        for row_probabilities, in_distribution in zip(self.probabilities(rows), usual, strict=True):
            best = int(row_probabilities.argmax())
            answers.append(
                {
                    "prediction": classes[best],
                    "confidence": float(row_probabilities[best]),
                    "probabilities": {
                        name: float(p) for name, p in zip(classes, row_probabilities, strict=True)
                    },
                    "model_version": self.version,
                    "in_distribution": bool(in_distribution),
                }
            )
        return answers

    def what_if(self, base: dict, field: str, values) -> pd.DataFrame:
        """As `field` takes each of `values` (index), the rest held: class probabilities (a column
        each), or the predicted number (one column, named after the target)."""
        rows = pd.DataFrame([base] * len(values), columns=self.features)
        rows[field] = list(values)
        index = pd.Index(list(values), name=field)
        if self.is_regression:
            return pd.DataFrame({self.target: self.values(rows)}, index=index)
        return pd.DataFrame(self.probabilities(rows), index=index, columns=self.classes)

    def save(self, path) -> None:
        joblib.dump(self, path, compress=3)

    @classmethod
    def open(cls, path) -> Machine:
        machine = joblib.load(path)
        if not isinstance(machine, cls):
            raise TypeError(f"{path} does not hold a Machine.")
        return machine

    def info(self) -> str:
        version = f"version {self.version}" if self.version is not None else "unregistered"
        base = type(getattr(self.pipeline, "estimator", self.pipeline)[-1]).__name__
        return f"Base model: {base}, {version}, trained {self.trained_at:%Y-%m-%d %H:%M %Z}"
