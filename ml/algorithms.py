"""The algorithms a user may train, for each task, with their hyperparameters and bounds.

Pure Python and scikit-learn.  An algorithm names one estimator per task it
serves (logistic regression only classifies, linear regression only predicts
numbers; the others do both), the hyperparameters a user may set, and
whether it needs standardised inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

CLASSIFICATION, REGRESSION = TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Param:
    """One hyperparameter a user may set: its type, default and bounds."""

    kind: type
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""
    label: str = ""  # what a form calls it

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
    estimators: dict[str, type]  # task -> estimator class
    params: dict[str, Param]
    scaled: bool  # needs standardised inputs (distances, penalised weights)
    seeded: bool  # takes a random_state

    def estimator(self, task: str, params: dict, random_state: int | None):
        settings = dict(params)
        if "max_depth" in settings and not settings["max_depth"]:
            settings["max_depth"] = None  # 0 in the form: no limit
        if self.seeded:
            settings["random_state"] = random_state
        return self.estimators[task](**settings)


_FOREST = {
    "n_estimators": Param(int, 100, 1, 1_000, help="More trees: steadier, slower.", label="Trees"),
    "max_depth": Param(int, 0, 0, 100, help="0: grow until the leaves are pure.", label="Deepest split"),
    "min_samples_leaf": Param(int, 1, 1, 1_000, label="Fewest rows in a leaf"),
    "n_jobs": Param(int, 2, 1, 64, help="Cores to fit and predict with.", label="Cores"),
}
ALGORITHMS = {
    "logistic_regression": Algorithm(
        "Logistic regression",
        {CLASSIFICATION: LogisticRegression},
        {
            "C": Param(
                float, 1.0, 1e-4, 1e6, help="Larger: weaker regularisation (C).", label="Freedom of fit"
            ),
            "max_iter": Param(int, 5_000, 10, 100_000, help="Most solver iterations.", label="Iterations"),
        },
        scaled=True,
        seeded=False,
    ),
    "linear_regression": Algorithm(
        "Linear regression",
        {REGRESSION: Ridge},
        {
            "alpha": Param(
                float, 1.0, 0.0, 1e6, help="Ridge penalty on the weights; 0: least squares.", label="Penalty"
            )
        },
        scaled=True,
        seeded=False,
    ),
    "hist_gradient_boosting": Algorithm(
        "Histogram gradient boosting",
        {CLASSIFICATION: HistGradientBoostingClassifier, REGRESSION: HistGradientBoostingRegressor},
        {
            "max_iter": Param(
                int, 200, 10, 2_000, help="Trees added one after another.", label="Boosting rounds"
            ),
            "learning_rate": Param(
                float, 0.1, 0.001, 1.0, help="How much each round corrects.", label="Learning rate"
            ),
            "max_leaf_nodes": Param(int, 31, 2, 255, label="Most leaves per tree"),
            "l2_regularization": Param(float, 0.0, 0.0, 100.0, label="L2 penalty"),
        },
        scaled=False,
        seeded=True,
    ),
    "random_forest": Algorithm(
        "Random forest",
        {CLASSIFICATION: RandomForestClassifier, REGRESSION: RandomForestRegressor},
        _FOREST,
        scaled=False,
        seeded=True,
    ),
    "k_nearest_neighbours": Algorithm(
        "k-nearest neighbours",
        {CLASSIFICATION: KNeighborsClassifier, REGRESSION: KNeighborsRegressor},
        {
            "n_neighbors": Param(int, 15, 1, 500, label="Neighbours"),
            "weights": Param(
                str,
                "distance",
                choices=("uniform", "distance"),
                help="distance: nearer neighbours count more.",
                label="Weighting",
            ),
        },
        scaled=True,
        seeded=False,
    ),
}
DEFAULT_ALGORITHMS = {CLASSIFICATION: "logistic_regression", REGRESSION: "linear_regression"}
DEFAULT_ALGORITHM = DEFAULT_ALGORITHMS[CLASSIFICATION]


def algorithms_for(task: str) -> list[str]:
    return [name for name, algorithm in ALGORITHMS.items() if task in algorithm.estimators]


def clean_algorithm(algorithm: str | None, task: str) -> str:
    """The algorithm's name (the task's default when None), or ValueError when it cannot do the task."""
    algorithm = algorithm or DEFAULT_ALGORITHMS[task]
    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}.")
    if task not in ALGORITHMS[algorithm].estimators:
        raise ValueError(
            f"{ALGORITHMS[algorithm].label} does no {task}; choose from {', '.join(algorithms_for(task))}."
        )
    return algorithm


def param_label(algorithm: str, name: str) -> str:
    """What the pages call hyperparameter `name` of `algorithm` ("Trees", not n_estimators)."""
    param = ALGORITHMS[algorithm].params.get(name) if algorithm in ALGORITHMS else None
    return param.label if param is not None and param.label else name


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
