"""The monsters' own feature engineering, which lets a linear model learn the ranks.

Resources are interchangeable draws, so each row's resources are sorted
(smallest, middle, largest).  With the level, that makes the rank boundaries
(largest resource about (2 * level + 1) * (rank + 1)) straight lines a linear
model can learn from a thousand monsters.  Every step is a scikit-learn,
numpy or standard-library object, so a saved monster pipeline loads in any
Python with scikit-learn, pandas and joblib.
"""

from __future__ import annotations

import operator

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from monsters.columns import NUMBERS, RESOURCE_NAMES

NUMERIC_FEATURES = NUMBERS
FEATURES = (*NUMERIC_FEATURES, "type")
RESOURCES = RESOURCE_NAMES
DEFAULT_FEATURES = NUMERIC_FEATURES
TARGETS = ("rarity", "type")
DEFAULT_TARGET = "rarity"
# The rank boundaries are exact straight lines in the engineered features: the linear
# model needs little regularisation to find them (scikit-learn's C=1 stops at about 97 %).
DEFAULT_PARAMS = {"logistic_regression": {"C": 1e4}}
ENGINEERING = "level negated, resources sorted (smallest, middle, largest), type one-hot encoded"


def takes_engineering(features: list[str]) -> bool:
    """True when every feature is a monster field the engineering knows."""
    return bool(features) and all(feature in FEATURES for feature in features)


def monster_settings(features) -> tuple[list[str], bool]:
    """The monsters' features (their four numbers when none are given) and whether the engineering
    applies to them."""
    features = list(DEFAULT_FEATURES) if features is None else list(features)
    return features, takes_engineering(features)


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
