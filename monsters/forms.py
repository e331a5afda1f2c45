from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from analytics.filters import FilterForm, TablePosition, filter_form, suggested_text
from bandersnatch.columns import ROW_ID_COLUMN

from .columns import COLUMN
from .models import RANGE_FIELDS, SORTABLE_FIELDS

SORT_CHOICES = [
    (f"{sign}{field}", f"{sign}{field}") for field in ("id", *SORTABLE_FIELDS) for sign in ("", "-")
]


# The columns /data filters by (as every dataset's table does, analytics.filters), beside the name search.
FILTERED = tuple(COLUMN[name] for name in ("type", "rarity", *RANGE_FIELDS))
# The table (its page, export and API) also takes a range of ids, as every table does.
TABLE_FILTERED = (*FILTERED, ROW_ID_COLUMN)


class MonsterFilters(FilterForm):
    """The filters shared by the data page, its CSV export and the charts."""

    q = suggested_text(max_length=COLUMN["name"].max_length, required=False, label="Name contains")

    def filters(self) -> dict:
        """The cleaned filters, as Monster.objects.matching() takes them."""
        return {**super().filters(), "q": self.cleaned_data["q"]}


MonsterFilterForm = filter_form(FILTERED, MonsterFilters)


class DataPageForm(TablePosition, filter_form(TABLE_FILTERED, MonsterFilters)):
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
