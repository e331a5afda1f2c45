from __future__ import annotations

from functools import lru_cache

from django import forms

from bandersnatch.columns import KINDS as COLUMN_KINDS
from bandersnatch.columns import Column, filter_names
from monsters.forms import MonsterFilterForm

from .fields import KINDS, MONSTER_CHART, MONSTER_FIELDS, ChartFields


def _choice(name: str, allowed) -> dict:
    """A ChoiceField's messages that name what is allowed."""
    listed = ", ".join(value for value in allowed if value)
    return {"invalid_choice": f"Unknown {name} %(value)s. Allowed: {listed}."}


class ChartChoices(forms.Form):
    """What to draw (x, y, color, kind); chart_form adds the fields of one table and its row filters."""

    fields_of_chart: ChartFields
    defaults: dict = {}

    def __init__(self, data=None, **kwargs):
        # Missing parameters take the defaults (a bare page draws a chart).
        if data is not None:
            data = data.copy()
            for name, value in self.defaults.items():
                if name not in data and value is not None:
                    data[name] = value
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        numeric = self.fields_of_chart.numeric
        if cleaned.get("kind") == "box" and cleaned.get("y") and cleaned["y"] not in numeric:
            names = ", ".join(self.fields_of_chart.label(name) for name in numeric) or "none in this table"
            self.add_error("y", f"A box plot needs a numeric y axis: {names}.")
        return cleaned

    def chart(self) -> dict:
        """What to draw: x, y, color (None for no colour) and kind."""
        return {
            "x": self.cleaned_data["x"],
            "y": self.cleaned_data["y"],
            "color": self.cleaned_data["color"] or None,
            "kind": self.cleaned_data["kind"],
        }

    def filter_groups(self) -> list[dict]:
        """Per filtered column its bound fields: a range (from, to) and the rest (equals, contains, empty)."""
        groups = []
        for column in getattr(self, "columns", ()):
            names = filter_names(column)
            ranged = [self[name] for name in names if name.endswith(("_min", "_max"))]
            others = [self[name] for name in names if not name.endswith(("_min", "_max"))]
            groups.append({"range": ranged, "others": others})
        return groups

    def filters_given(self) -> bool:
        return any(self[name].value() not in (None, "") for column in getattr(self, "columns", ())
                   for name in filter_names(column))  # fmt: skip


@lru_cache(maxsize=256)
def chart_form(fields: ChartFields, filters: type[forms.Form], defaults: tuple) -> type[ChartChoices]:
    """The chart form of a table: its chartable fields to pick from, with its table's filters."""
    chartable = fields.chartable
    picks = [(name, fields.label(name)) for name in chartable]
    attributes = {
        "kind": forms.ChoiceField(
            choices=[(k, k.capitalize()) for k in KINDS],
            error_messages=_choice("chart kind", KINDS),
            label="Chart",
        ),
        "x": forms.ChoiceField(choices=picks, error_messages=_choice("field", chartable), label="X axis"),
        "y": forms.ChoiceField(choices=picks, error_messages=_choice("field", chartable), label="Y axis"),
        "color": forms.ChoiceField(
            choices=[("", "None"), *((name, fields.label(name)) for name in fields.colors)],
            required=False,
            error_messages=_choice("colour field", fields.colors),
            label="Colour",
            # Sent even when empty ("None"): a missing colour takes the default one.
            widget=forms.Select(attrs={"data-keep-empty": ""}),
        ),
        "fields_of_chart": fields,
        "defaults": dict(defaults),
    }
    return type("ChartForm", (ChartChoices, filters), attributes)


class ChartForm(chart_form(MONSTER_FIELDS, MonsterFilterForm, tuple(MONSTER_CHART.items()))):
    """The /view parameters: the monster chart choices and the filters of /data."""

    def hidden_ranges(self):
        """Resource ranges given in the URL: the form has no inputs for them but keeps them."""
        for name in (f"{resource}_{end}" for resource in MONSTER_FIELDS.continuous for end in ("min", "max")):
            if self[name].value() not in (None, ""):
                yield self[name]


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
