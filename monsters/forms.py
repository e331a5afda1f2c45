from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from analytics.filters import TablePosition

from .columns import COLUMN, MAX_RESOURCE
from .generator import RARITIES, TYPES
from .models import RANGE_FIELDS, SORTABLE_FIELDS

LEVEL_BOUNDS = {"min_value": COLUMN["level"].minimum, "max_value": COLUMN["level"].maximum}
RESOURCE_BOUNDS = {"min_value": COLUMN["health"].minimum, "max_value": MAX_RESOURCE}
SORT_CHOICES = [
    (f"{sign}{field}", f"{sign}{field}") for field in ("id", *SORTABLE_FIELDS) for sign in ("", "-")
]


class MonsterFilterForm(forms.Form):
    """The filters shared by the data page, its CSV export and the charts."""

    type = forms.ChoiceField(choices=[("", "Any type"), *((t, t) for t in TYPES)], required=False)
    rarity = forms.ChoiceField(choices=[("", "Any rarity"), *((r, r) for r in RARITIES)], required=False)
    level_min = forms.IntegerField(**LEVEL_BOUNDS, required=False, label="Level from")
    level_max = forms.IntegerField(**LEVEL_BOUNDS, required=False, label="to")
    health_min = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="Health from")
    health_max = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="to")
    energy_min = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="Energy from")
    energy_max = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="to")
    sanity_min = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="Sanity from")
    sanity_max = forms.FloatField(**RESOURCE_BOUNDS, required=False, label="to")
    q = forms.CharField(max_length=64, required=False, label="Name contains")

    FILTERS = ("type", "rarity", "q", *(f"{f}_{end}" for f in RANGE_FIELDS for end in ("min", "max")))

    def clean(self):
        cleaned = super().clean()
        for field in RANGE_FIELDS:
            low, high = cleaned.get(f"{field}_min"), cleaned.get(f"{field}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{field}_max", "Must not be below the lower bound.")
        return cleaned

    def filters(self) -> dict:
        """The cleaned filters, as Monster.objects.matching() takes them."""
        return {name: self.cleaned_data[name] for name in self.FILTERS}


class DataPageForm(TablePosition, MonsterFilterForm):
    """The data page's GET parameters: filters, sort order and page."""

    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def page_options(self) -> dict:
        """The keyword arguments of selectors.monster_table_page: filters, sort and position."""
        return {**self.filters(), **self.position()}


class ReseedForm(forms.Form):
    """How many monsters replace the current ones, and an optional seed; confirmed on a second step."""

    MAX_COUNT = 5_000_000

    count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, initial=1_000, label="Monsters")
    seed = forms.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        help_text="Optional: the same seed gives the same monsters.",
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ImportForm(forms.Form):
    """A CSV file of monsters, and whether it adds to the table or replaces it."""

    file = forms.FileField(label="CSV file", widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))
    mode = forms.ChoiceField(
        choices=[
            ("append", "Append: add them to the monsters already there"),
            ("replace", "Replace: delete every monster first (ids restart at 1)"),
        ],
        initial="append",
        widget=forms.RadioSelect,
    )

    def __init__(self, data=None, files=None, **kwargs):
        # A post without a mode appends, and the page shows that choice again.
        if data is not None and not data.get("mode"):
            data = data.copy()
            data["mode"] = "append"
        super().__init__(data, files, **kwargs)

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(file.size)}, more than the limit of "
                f"{filesizeformat(settings.IMPORT_MAX_BYTES)}."
            )
        return file
