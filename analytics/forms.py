from __future__ import annotations

from django import forms

from bandersnatch.columns import KINDS as COLUMN_KINDS
from bandersnatch.columns import Column
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


class DatasetUploadForm(forms.Form):
    """A CSV file to explore, and what to call it."""

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with commas, semicolons or tabs between cells; a .gz of one is fine too.",
        widget=forms.FileInput(attrs={"accept": ".csv,.tsv,.txt,.gz,text/csv"}),
    )
    name = forms.CharField(max_length=100, required=False, help_text="The file's name when left empty.")
    description = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_public = forms.BooleanField(required=False, label="Public: everyone may see it (read-only)")
    # Its size and columns are checked by the service (datasets.dataset_preview), for the command too.


def _empty_bad_cells() -> forms.BooleanField:
    return forms.BooleanField(
        required=False,
        label="Make cells that do not fit their column's kind empty (instead of refusing the file)",
    )


class DatasetReplaceForm(forms.Form):
    """A file with the dataset's columns, whose rows replace the dataset's."""

    file = DatasetUploadForm.base_fields["file"]
    empty_bad_cells = _empty_bad_cells()


def preview_form(columns: tuple[Column, ...]) -> type[forms.Form]:
    """The preview's choices: per column a label, a kind and whether to keep it (label_0, kind_0...)."""
    attributes: dict[str, forms.Field] = {}
    for position, column in enumerate(columns):
        attributes[f"keep_{position}"] = forms.BooleanField(required=False, initial=True, label="Keep")
        attributes[f"label_{position}"] = forms.CharField(
            max_length=100, required=False, initial=column.label, label="Name"
        )
        attributes[f"kind_{position}"] = forms.ChoiceField(
            choices=[(kind, kind) for kind in COLUMN_KINDS], initial=column.kind, label="Kind"
        )
    attributes["empty_bad_cells"] = _empty_bad_cells()

    def choices(self) -> list[dict]:
        return [
            {key: self.cleaned_data[f"{key}_{position}"] for key in ("keep", "label", "kind")}
            for position in range(len(columns))
        ]

    def rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{key}_{position}"] for key in ("keep", "label", "kind")]
            for position in range(len(columns))
        ]

    attributes.update(choices=choices, rows=rows)
    return type("DatasetPreviewForm", (forms.Form,), attributes)
