"""The CSV files scikit-learn ships (iris, wine, breast cancer, diabetes) as a user would upload them.

sklearn's loaders read its bundled CSV files; each table is written back out
with a header row and the target last (named, with class names rather than
codes), loaded as a dataset, and trained on like any other.  The reference is
a default scikit-learn random forest fitted on the same training rows and
scored on the same test rows.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

# name -> (loader, target column, classification?)
TABLES = {
    "iris": (datasets.load_iris, "species", True),
    "wine": (datasets.load_wine, "cultivar", True),
    "breast_cancer": (datasets.load_breast_cancer, "diagnosis", True),
    "diabetes": (lambda **options: datasets.load_diabetes(scaled=False, **options), "progression", False),
}


def table_csv(name: str) -> bytes:
    loader, target, classification = TABLES[name]
    bunch = loader(as_frame=True)
    frame = bunch.data.copy()
    frame[target] = np.asarray(bunch.target_names)[bunch.target] if classification else bunch.target
    return frame.to_csv(index=False).encode()


def table_dataset(name: str, owner=None):
    """The table loaded as a public dataset (analytics.datasets.dataset_create)."""
    from analytics.datasets import dataset_create

    file = io.BytesIO(table_csv(name))
    file.name = f"{name}.csv"
    return dataset_create(file=file, name=name.replace("_", " ").title(), owner=owner, is_public=True)


def forest_score(frame: pd.DataFrame, result, target: str, *, seed: int) -> float:
    """A default random forest's accuracy (or R²) on `result`'s test rows, fitted on the rest."""
    test = result.test_frame
    train = frame.drop(index=test.index)
    train = train[train[target].notna()]
    classification = result.task == "classification"
    forest = (RandomForestClassifier if classification else RandomForestRegressor)(random_state=seed)
    labels = train[target].astype(str) if classification else train[target]
    forest.fit(train[result.features], labels)
    return float(forest.score(test[result.features], test[target]))
