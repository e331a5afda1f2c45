from __future__ import annotations

import numpy as np
from django import forms

from monsters.generator import MAX_LEVEL, TYPES, generate_monsters

MAX_RESOURCE = 1_000_000.0


class PredictionForm(forms.Form):
    """A monster's stats for the /model page (the API validates with its own schema)."""

    level = forms.IntegerField(min_value=1, max_value=MAX_LEVEL)
    health = forms.FloatField(min_value=0, max_value=MAX_RESOURCE)
    energy = forms.FloatField(min_value=0, max_value=MAX_RESOURCE)
    sanity = forms.FloatField(min_value=0, max_value=MAX_RESOURCE)
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
