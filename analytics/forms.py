from __future__ import annotations

from django import forms

from monsters.forms import MonsterFilterForm

from .fields import CHART_FIELDS, COLOR_FIELDS, KINDS, NUMERIC, label


def _choice(name: str, allowed) -> dict:
    """A ChoiceField's messages that name what is allowed."""
    listed = ", ".join(value for value in allowed if value)
    return {"invalid_choice": f"Unknown {name} %(value)s. Allowed: {listed}."}


class ChartForm(MonsterFilterForm):
    """The /view parameters: what to draw (x, y, color, kind) and the row filters."""

    DEFAULTS = {"x": "level", "y": "health", "color": "rarity", "kind": "scatter"}

    x = forms.ChoiceField(
        choices=[(f, label(f)) for f in CHART_FIELDS],
        error_messages=_choice("field", CHART_FIELDS),
        label="X axis",
    )
    y = forms.ChoiceField(
        choices=[(f, label(f)) for f in CHART_FIELDS],
        error_messages=_choice("field", CHART_FIELDS),
        label="Y axis",
    )
    color = forms.ChoiceField(
        choices=[("", "None"), *((f, label(f)) for f in COLOR_FIELDS)],
        required=False,
        error_messages=_choice("colour field", COLOR_FIELDS),
        label="Colour",
    )
    kind = forms.ChoiceField(
        choices=[(k, k.capitalize()) for k in KINDS],
        error_messages=_choice("chart kind", KINDS),
        label="Chart",
    )

    def __init__(self, data=None, **kwargs):
        # Missing parameters take the defaults (a bare /view draws a chart).
        if data is not None:
            data = data.copy()
            for name, value in self.DEFAULTS.items():
                if name not in data:
                    data[name] = value
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "box" and cleaned.get("y") and cleaned["y"] not in NUMERIC:
            self.add_error("y", f"A box plot needs a numeric y axis: {', '.join(NUMERIC)}.")
        return cleaned

    def hidden_ranges(self):
        """Resource ranges given in the URL: the form has no inputs for them but keeps them."""
        for name in ("health_min", "health_max", "energy_min", "energy_max", "sanity_min", "sanity_max"):
            if self[name].value() not in (None, ""):
                yield self[name]

    def chart(self) -> dict:
        """What to draw: x, y, color (None for no colour) and kind."""
        return {
            "x": self.cleaned_data["x"],
            "y": self.cleaned_data["y"],
            "color": self.cleaned_data["color"] or None,
            "kind": self.cleaned_data["kind"],
        }
