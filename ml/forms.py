"""The prediction form, built from a model version's input columns, and the training form of a dataset."""

from __future__ import annotations

from functools import lru_cache

from django import forms

from bandersnatch.columns import Column

from .algorithms import ALGORITHMS, TASKS
from .cleaning import CATEGORY_EMPTY, EMPTY_CHOICES, NUMERIC_EMPTY, default_plan, shape_of
from .monster_features import DEFAULT_FEATURES, DEFAULT_PARAMS, takes_engineering
from .training import MIN_ROWS, settings_check, usable_features


def input_field(column: Column) -> forms.Field:
    """A form field taking one value of `column`, within its bounds or among its choices; left
    empty only where the column may be."""
    options = {"label": column.label, "required": not column.nullable}
    if column.kind == "integer":
        return forms.IntegerField(min_value=column.minimum, max_value=column.maximum, **options)
    if column.kind == "number":
        return forms.FloatField(min_value=column.minimum, max_value=column.maximum, **options)
    empty = [("", "(empty)")] if column.nullable else []
    if column.kind == "boolean":
        return forms.TypedChoiceField(
            choices=[*empty, ("True", "yes"), ("False", "no")],
            coerce=lambda value: value == "True",
            empty_value=None,
            **options,
        )
    if column.kind == "datetime":
        return forms.DateTimeField(**options)
    if column.choices:
        return forms.TypedChoiceField(
            choices=[*empty, *((value, value) for value in column.choices)], empty_value=None, **options
        )
    return forms.CharField(max_length=column.max_length, empty_value=None, **options)


@lru_cache(maxsize=64)
def prediction_form(columns: tuple[Column, ...]) -> type[forms.Form]:
    """A form with one field per input column, in order (a model version's `input_columns`)."""
    return type("PredictionForm", (forms.Form,), {column.name: input_field(column) for column in columns})


class FeedbackForm(forms.Form):
    """Was a prediction right? And if not, the true value."""

    correct = forms.TypedChoiceField(
        choices=[("", "—"), ("yes", "Yes, right"), ("no", "No, wrong")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
    )
    value = forms.CharField(required=False, max_length=200, label="True value")


class TrainForm(forms.Form):
    """What to train on one dataset: target, task, features, algorithm and its hyperparameters,
    how each feature's empty cells are filled, and the split.

    The hyperparameter fields are named "<algorithm>-<name>", the cleaning
    fields "empty-<feature>" and "constant-<feature>"; only the chosen
    algorithm's and features' are used.  Everything that can be checked
    before training is (training.settings_check), so a job is only queued
    for settings that make sense.
    """

    ACTIVATE_CHOICES = [
        ("better", "If it beats the active version of this target (or none is active)"),
        ("always", "Yes, make it the active version"),
        ("never", "No, only store it"),
    ]

    target = forms.ChoiceField(help_text="The column to predict.")
    task = forms.ChoiceField(
        choices=[("", "As the target's kind suggests"), *((task, task.capitalize()) for task in TASKS)],
        required=False,
    )
    features = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    algorithm = forms.ChoiceField(
        choices=[("", "The task's default"), *((name, a.label) for name, a in ALGORITHMS.items())],
        required=False,
    )
    drop_first = forms.BooleanField(required=False, label="One-hot encode without the first category")
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, required=False, initial=1)
    test_size = forms.FloatField(min_value=0.05, max_value=0.5, initial=0.2, label="Test share")
    activate = forms.ChoiceField(choices=ACTIVATE_CHOICES, initial="better", widget=forms.RadioSelect)

    def __init__(self, *args, dataset, distinct: dict[str, int], rows: int, default_target: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.dataset, self.distinct, self.rows = dataset, distinct, rows
        self.columns = dataset.column_list
        self.builtin = dataset.is_builtin
        self.fields["target"].choices = [(c.name, c.label) for c in self.columns if c.kind != "datetime"]
        self.fields["target"].initial = default_target
        self.fields["features"].choices = [(c.name, c.label) for c in self.columns]
        self.fields["features"].initial = (
            list(DEFAULT_FEATURES)
            if self.builtin
            else usable_features(self.columns, default_target, distinct, rows)
        )
        for algorithm, spec in ALGORITHMS.items():
            for name, param in spec.params.items():
                self.fields[f"{algorithm}-{name}"] = _param_field(param)
        if self.builtin:  # the monsters' own defaults (monster_features.DEFAULT_PARAMS)
            for algorithm, params in DEFAULT_PARAMS.items():
                for name, value in params.items():
                    self.fields[f"{algorithm}-{name}"].initial = value
        for column in self.columns:
            plan = default_plan(column)
            allowed = CATEGORY_EMPTY if plan.shape == "category" else NUMERIC_EMPTY
            self.fields[f"empty-{column.name}"] = forms.ChoiceField(
                choices=[
                    ("", f"default: {EMPTY_CHOICES[plan.empty]}"),
                    *((a, EMPTY_CHOICES[a]) for a in allowed),
                ],
                required=False,
                label=f"Empty {column.label}",
            )
            self.fields[f"constant-{column.name}"] = forms.CharField(
                required=False,
                max_length=200,
                label="constant" if shape_of(column) == "category" else "number",
            )

    def param_fields(self, algorithm: str) -> list:
        return [self[f"{algorithm}-{name}"] for name in ALGORITHMS[algorithm].params]

    def cleaning_fields(self) -> list[tuple]:
        """(column, how field, constant field) per column, for the template."""
        return [(c, self[f"empty-{c.name}"], self[f"constant-{c.name}"]) for c in self.columns]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        algorithm = cleaned.get("algorithm") or None
        given = {}
        if algorithm in ALGORITHMS:
            given = {
                name: cleaned[f"{algorithm}-{name}"]
                for name in ALGORITHMS[algorithm].params
                if cleaned.get(f"{algorithm}-{name}") not in (None, "")
            }
        cleaning = {
            name: {"empty": cleaned[f"empty-{name}"], "constant": cleaned.get(f"constant-{name}") or None}
            for name in cleaned["features"]
            if cleaned.get(f"empty-{name}")
        }
        target = cleaned["target"]
        if target in cleaned["features"]:
            self.add_error("features", "The target cannot also be a feature.")
            return cleaned
        try:
            settings = settings_check(
                self.columns,
                self.distinct,
                self.rows,
                target=target,
                features=cleaned["features"],
                task=cleaned.get("task") or None,
                algorithm=algorithm,
                params=given,
                cleaning=cleaning,
                drop_first=cleaned.get("drop_first", False),
                test_size=cleaned["test_size"],
                engineered=self.builtin and takes_engineering(cleaned["features"]),
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if self.rows < MIN_ROWS:
            raise forms.ValidationError(
                f"Need at least {MIN_ROWS} rows to train; this dataset has {self.rows}."
            )
        if self.distinct.get(target, 2) < 2:
            self.add_error("target", f"Every {target} is the same: one value leaves nothing to predict.")
            return cleaned
        cleaned.update(
            task=settings.task, algorithm=settings.algorithm, params=settings.params, cleaning=cleaning
        )
        return cleaned

    def training_options(self) -> dict:
        """The keyword arguments of ml.services.model_version_train, but the dataset (JSON-ready)."""
        data = self.cleaned_data
        return {
            "target": data["target"],
            "features": data["features"],
            "task": data["task"],
            "algorithm": data["algorithm"],
            "params": data["params"],
            "cleaning": data["cleaning"],
            "drop_first": data["drop_first"],
            "seed": data["seed"],
            "test_size": data["test_size"],
            "activate": {"better": None, "always": True, "never": False}[data["activate"]],
        }


def train_initial(options: dict) -> dict:
    """The training form's initial values from model_version_train's options (to train again)."""
    initial = {key: options[key] for key in ("target", "features", "task", "algorithm", "seed", "test_size")}
    initial["drop_first"] = options.get("drop_first", False)
    for name, value in options.get("params", {}).items():
        initial[f"{options['algorithm']}-{name}"] = value
    for name, plan in options.get("cleaning", {}).items():
        initial[f"empty-{name}"] = plan["empty"]
        initial[f"constant-{name}"] = plan.get("constant") or ""
    return initial


def _param_field(param) -> forms.Field:
    options = {
        "required": False,
        "initial": param.default,
        "help_text": param.help,
        "label": param.label or None,
    }
    if param.choices:
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **options)
    bounds = {"min_value": param.low, "max_value": param.high}
    if param.kind is int:
        return forms.IntegerField(**bounds, **options)
    return forms.FloatField(**bounds, **options)
