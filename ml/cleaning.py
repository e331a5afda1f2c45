"""The cleaning steps inside a model's pipeline: a saved model takes raw rows, empty cells included.

Pure scikit-learn and pandas, no Django.  Each feature gets a plan: how its
empty cells are filled (or, for training only, its rows dropped), and what it
becomes for the estimator: numbers stay numbers (scaled when the algorithm
needs it), categories, booleans and short texts are one-hot encoded (the
rarest and the unseen categories share a column), times become numeric parts.
The plan is plain JSON data, stored with the model version and shown on its
card.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from bandersnatch.columns import NUMERIC_KINDS, Column

EMPTY_CHOICES = {
    "median": "the median",
    "mean": "the mean",
    "most_frequent": "the most frequent value",
    "zero": "zero",
    "constant": "a constant",
    "drop": "leave the row out (training only)",
}
NUMERIC_EMPTY = ("median", "mean", "most_frequent", "zero", "constant", "drop")
CATEGORY_EMPTY = ("most_frequent", "constant", "drop")
DATETIME_PARTS = ("year", "month", "weekday", "hour", "days since 1970")
MAX_CATEGORIES = 50  # one-hot columns per feature at most: rarer categories share one "infrequent" column
EMPTY_TEXT = "(empty)"  # the constant a category's empty cells become unless another is given


# A category unseen in training is expected at prediction time and handled (it joins the
# infrequent column, or none): scikit-learn's warning about each one is noise in the logs.
warnings.filterwarnings("ignore", message="Found unknown categories", category=UserWarning)


def shape_of(column: Column) -> str:
    """What a column becomes for an estimator: "number", "category" or "datetime"."""
    if column.kind in NUMERIC_KINDS:
        return "number"
    return "datetime" if column.kind == "datetime" else "category"


@dataclass(frozen=True)
class FeaturePlan:
    """How one feature is cleaned: `empty` (a key of EMPTY_CHOICES) and the constant it may fill in."""

    name: str
    shape: str
    empty: str
    constant: float | str | None = None

    def describe(self, *, scaled: bool, drop_first: bool) -> str:
        """The steps in words, for the model card."""
        filled = EMPTY_CHOICES[self.empty]
        if self.empty == "constant":
            filled = f"the constant {self.constant!r}"
        steps = [f"empty cells: {filled}" if self.empty == "drop" else f"empty cells filled with {filled}"]
        if self.shape == "datetime":
            steps.insert(0, f"split into {', '.join(DATETIME_PARTS)}")
        if self.shape == "category":
            steps.append("one-hot encoded" + (", first category dropped" if drop_first else ""))
            steps.append(f"at most {MAX_CATEGORIES} columns, rarer and unseen categories grouped")
        elif scaled:
            steps.append("standardised")
        return "; ".join(steps)


def default_plan(column: Column) -> FeaturePlan:
    shape = shape_of(column)
    return FeaturePlan(column.name, shape, "most_frequent" if shape == "category" else "median")


def feature_plans(columns: list[Column], given: dict | None = None) -> list[FeaturePlan]:
    """Each feature's plan: the default for its kind, or the one `given` ({name: {"empty", "constant"}}).

    ValueError naming the feature for a choice its kind does not take.
    """
    given = given or {}
    unknown = sorted(set(given) - {column.name for column in columns})
    if unknown:
        raise ValueError(f"Cleaning given for {', '.join(unknown)}, which is not a feature.")
    plans = []
    for column in columns:
        plan = default_plan(column)
        choice = given.get(column.name) or {}
        empty = choice.get("empty") or plan.empty
        allowed = CATEGORY_EMPTY if plan.shape == "category" else NUMERIC_EMPTY
        if empty not in allowed:
            raise ValueError(f"Empty cells of {column.name} can be {', '.join(allowed)}, not {empty!r}.")
        constant = choice.get("constant")
        if empty == "constant":
            constant = _constant(column, plan.shape, constant)
        plans.append(FeaturePlan(column.name, plan.shape, empty, constant if empty == "constant" else None))
    return plans


def _constant(column: Column, shape: str, value) -> float | str:
    if shape == "category":
        text = "" if value is None else str(value).strip()
        return text or EMPTY_TEXT
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The constant for {column.name} must be a number, not {value!r}.") from None
    if not np.isfinite(number):
        raise ValueError(f"The constant for {column.name} must be a finite number.")
    return number


def plans_as_json(plans: list[FeaturePlan]) -> dict:
    return {plan.name: {key: value for key, value in asdict(plan).items() if key != "name"} for plan in plans}


def plans_from_json(data: dict) -> list[FeaturePlan]:
    return [FeaturePlan(name, **values) for name, values in data.items()]


def rows_to_drop(frame: pd.DataFrame, plans: list[FeaturePlan]) -> pd.Series:
    """True for the training rows a "drop" plan leaves out (an empty cell in that feature)."""
    dropping = [plan.name for plan in plans if plan.empty == "drop"]
    if not dropping:
        return pd.Series(False, index=frame.index)
    return frame[dropping].isna().any(axis=1)


# Transformers (module-level functions, so a fitted pipeline pickles) ------------------------


def as_text(values) -> np.ndarray:
    """Categories as strings, empty cells (None, NaN, NA) as NaN: what the imputer and encoder take."""
    cells = pd.DataFrame(values).astype(object).to_numpy()
    text = cells.astype(str).astype(object)
    text[pd.isna(cells)] = np.nan
    return text


def as_number(values) -> np.ndarray:
    """Numbers as floats, empty cells (None) as NaN, whatever the dtype of the column handed in."""
    return np.asarray(values, dtype=float)


def datetime_parts(values) -> np.ndarray:
    """Each time as year, month, weekday (0 Monday), hour (UTC) and days since 1970; NaN where empty."""
    columns = []
    for _, series in pd.DataFrame(values).items():
        times = pd.to_datetime(series, utc=True, errors="coerce")
        epoch_days = (times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)
        columns += [times.dt.year, times.dt.month, times.dt.day_of_week, times.dt.hour, epoch_days]
    return np.column_stack([np.asarray(column, dtype=float) for column in columns])


def datetime_part_names(transformer, names) -> list[str]:
    """The names of datetime_parts' columns, for get_feature_names_out."""
    return [f"{name} {part}" for name in names for part in DATETIME_PARTS]


def _imputer(plan: FeaturePlan) -> SimpleImputer:
    if plan.empty in ("zero", "constant"):
        return SimpleImputer(strategy="constant", fill_value=0.0 if plan.empty == "zero" else plan.constant)
    if plan.empty == "drop":  # no empty cell reaches training; an imputer stays so any row is taken
        return SimpleImputer(strategy="most_frequent" if plan.shape == "category" else "median")
    return SimpleImputer(strategy=plan.empty)


def cleaning_transformer(plans: list[FeaturePlan], *, scaled: bool, drop_first: bool) -> ColumnTransformer:
    """One small pipeline per feature, picked from a DataFrame by name (other columns ignored)."""
    parts = []
    for plan in plans:
        if plan.shape == "category":
            steps = [
                ("text", FunctionTransformer(as_text, feature_names_out="one-to-one")),
                ("fill", _imputer(plan)),
                ("one_hot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
                                          drop="first" if drop_first else None, sparse_output=False)),
            ]  # fmt: skip
        else:
            numbers = (
                FunctionTransformer(datetime_parts, feature_names_out=datetime_part_names)
                if plan.shape == "datetime"
                else FunctionTransformer(as_number, feature_names_out="one-to-one")
            )
            steps = [("numbers", numbers), ("fill", _imputer(plan))]
            if scaled:
                steps.append(("scale", StandardScaler()))
        parts.append((plan.name, Pipeline(steps), [plan.name]))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
