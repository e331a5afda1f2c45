from __future__ import annotations

import numpy as np
from django import forms

from bandersnatch.columns import Column
from monsters.columns import COLUMN
from monsters.generator import generate_monsters

from .training import ALGORITHMS, DEFAULT_FEATURES, DEFAULT_TARGET, FEATURES, TARGETS, clean_params


def input_field(column: Column) -> forms.Field:
    """A form field taking one value of `column`, within its bounds or among its choices."""
    if column.kind == "integer":
        return forms.IntegerField(min_value=column.minimum, max_value=column.maximum, label=column.label)
    if column.kind == "number":
        return forms.FloatField(min_value=column.minimum, max_value=column.maximum, label=column.label)
    if column.choices:
        return forms.ChoiceField(choices=[(value, value) for value in column.choices], label=column.label)
    return forms.CharField(max_length=column.max_length, label=column.label)


def _typed(column: Column, value):
    return {"integer": int, "number": float}.get(column.kind, str)(value)


class PredictionFields(forms.Form):
    """A monster's stats for the /model page (the API validates with its own schema)."""

    def __init__(self, *args, features: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in features:
                del self.fields[name]  # only what the active model takes

    @staticmethod
    def random_initial() -> dict:
        """Plausible stats: a freshly generated monster, as the original app prefilled."""
        monster = generate_monsters(1, rng=np.random.default_rng()).iloc[0]
        return {name: _typed(COLUMN[name], monster[name]) for name in FEATURES}


PredictionForm = type(
    "PredictionForm", (PredictionFields,), {name: input_field(COLUMN[name]) for name in FEATURES}
)


class TrainForm(forms.Form):
    """What to train: algorithm, features, target, settings; each algorithm's hyperparameters as fields.

    The hyperparameter fields are named "<algorithm>-<name>"; only the chosen
    algorithm's are used, checked by training.clean_params.
    """

    ACTIVATE_CHOICES = [
        ("better", "If it beats the active version at the same target (or none is active)"),
        ("always", "Yes, make it the active version"),
        ("never", "No, only store it"),
    ]

    algorithm = forms.ChoiceField(choices=[(name, a.label) for name, a in ALGORITHMS.items()])
    features = forms.MultipleChoiceField(
        choices=[(name, name) for name in FEATURES],
        initial=list(DEFAULT_FEATURES),
        widget=forms.CheckboxSelectMultiple,
    )
    target = forms.ChoiceField(choices=[(name, name) for name in TARGETS], initial=DEFAULT_TARGET)
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, required=False, initial=1)
    test_size = forms.FloatField(min_value=0.05, max_value=0.5, initial=0.2, label="Test share")
    activate = forms.ChoiceField(choices=ACTIVATE_CHOICES, initial="better", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for algorithm, spec in ALGORITHMS.items():
            for name, param in spec.params.items():
                self.fields[f"{algorithm}-{name}"] = _param_field(param)

    def param_fields(self, algorithm: str) -> list:
        return [self[f"{algorithm}-{name}"] for name in ALGORITHMS[algorithm].params]

    def clean(self):
        cleaned = super().clean()
        algorithm = cleaned.get("algorithm")
        if algorithm in ALGORITHMS:
            given = {
                name: cleaned[f"{algorithm}-{name}"]
                for name in ALGORITHMS[algorithm].params
                if cleaned.get(f"{algorithm}-{name}") not in (None, "")
            }
            try:
                cleaned["params"] = clean_params(algorithm, given)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        if cleaned.get("target") and cleaned.get("target") in cleaned.get("features", []):
            self.add_error("features", "The target cannot also be a feature.")
        return cleaned

    def training_options(self) -> dict:
        """The keyword arguments of ml.services.model_version_train."""
        data = self.cleaned_data
        return {
            "algorithm": data["algorithm"],
            "features": data["features"],
            "target": data["target"],
            "params": data["params"],
            "seed": data["seed"],
            "test_size": data["test_size"],
            "activate": {"better": None, "always": True, "never": False}[data["activate"]],
        }


def _param_field(param) -> forms.Field:
    options = {"required": False, "initial": param.default, "help_text": param.help}
    if param.choices:
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **options)
    bounds = {"min_value": param.low, "max_value": param.high}
    if param.kind is int:
        return forms.IntegerField(**bounds, **options)
    return forms.FloatField(**bounds, **options)
