from __future__ import annotations

import numpy as np
from django import forms

from monsters.forms import LEVEL_BOUNDS, RESOURCE_BOUNDS
from monsters.generator import TYPES, generate_monsters

from .training import ALGORITHMS, DEFAULT_FEATURES, DEFAULT_TARGET, FEATURES, TARGETS, clean_params


class PredictionForm(forms.Form):
    """A monster's stats for the /model page (the API validates with its own schema)."""

    level = forms.IntegerField(**LEVEL_BOUNDS)
    health = forms.FloatField(**RESOURCE_BOUNDS)
    energy = forms.FloatField(**RESOURCE_BOUNDS)
    sanity = forms.FloatField(**RESOURCE_BOUNDS)
    type = forms.ChoiceField(choices=[(t, t) for t in TYPES])

    def __init__(self, *args, features: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in features:
                del self.fields[name]  # only what the active model takes

    @staticmethod
    def random_initial() -> dict:
        """Plausible stats: a freshly generated monster, as the original app prefilled."""
        monster = generate_monsters(1, rng=np.random.default_rng()).iloc[0]
        return {
            "level": int(monster["level"]),
            "health": float(monster["health"]),
            "energy": float(monster["energy"]),
            "sanity": float(monster["sanity"]),
            "type": str(monster["type"]),
        }


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
