"""The Machine: a fitted pipeline with what it needs to answer and to explain itself.

In the spirit of the original app's Machine: build it from a DataFrame, call it
on a DataFrame of features for (prediction, confidence), save() and open() it
with joblib, and ask info() what it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .training import DEFAULT_ALGORITHM, DEFAULT_FEATURES, DEFAULT_TARGET, fit_and_score


@dataclass
class Machine:
    pipeline: object  # a fitted scikit-learn estimator taking a DataFrame of raw fields
    features: list[str]
    target: str = DEFAULT_TARGET
    algorithm: str = DEFAULT_ALGORITHM
    version: int | None = None
    trained_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    detector: object | None = None  # in-distribution check: predict() gives 1 (like) or -1

    @classmethod
    def from_frame(cls, df: pd.DataFrame, **options) -> Machine:
        """Train on `df` (options as training.fit_and_score takes them)."""
        options.setdefault("features", list(DEFAULT_FEATURES))
        options.setdefault("algorithm", DEFAULT_ALGORITHM)
        options.setdefault("target", DEFAULT_TARGET)
        result = fit_and_score(df, **options)
        return cls(
            pipeline=result.pipeline,
            features=list(options["features"]),
            target=options["target"],
            algorithm=options["algorithm"],
            detector=result.detector,
        )

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def __call__(self, pred_basis: pd.DataFrame) -> tuple[str, float]:
        """The prediction and its confidence for the first row of `pred_basis`."""
        probabilities = self.pipeline.predict_proba(pred_basis)[0]
        best = int(np.argmax(probabilities))
        return self.classes[best], float(probabilities[best])

    def rows(self, records: list[dict]):
        """The model's input for raw records (dicts of the features).

        A plain pipeline of numeric features takes a dict of column arrays,
        several times cheaper than a DataFrame for a few rows; the one-hot step
        of `type` and a calibrated ensemble (which counts rows with len())
        need a DataFrame.
        """
        if "type" in self.features or not isinstance(self.pipeline, Pipeline):
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

    def in_distribution(self, rows) -> np.ndarray:
        """True where a row looks like the monsters the model learned from."""
        if self.detector is None:
            return np.ones(len(next(iter(rows.values())) if isinstance(rows, dict) else rows), dtype=bool)
        return self.detector.predict(rows) == 1

    def what_if(self, base: dict, field: str, values) -> pd.DataFrame:
        """Class probabilities (columns) as `field` takes each of `values` (index), the rest held."""
        rows = pd.DataFrame([base] * len(values))
        rows[field] = list(values)
        return pd.DataFrame(
            self.probabilities(rows), index=pd.Index(list(values), name=field), columns=self.classes
        )

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
