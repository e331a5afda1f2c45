"""A dataset table's GET parameters, built from its column description.

Per column, by kind: `<column>` equals (categories, booleans),
`<column>_min` / `<column>_max` (numbers and times), `<column>_contains`
(text), `<column>_empty` yes/no (nullable columns); then `sort`
(`column` or `-column`), `page` (a number or "last"), `per_page`, and the
`after` / `before` cursors of next and previous links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict

from bandersnatch.columns import RANGED_KINDS, ROW_ID, ROW_ID_COLUMN, Column, filter_names

from .suggestions import SUGGEST_FROM

PER_PAGE_CHOICES = (10, 25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
CONTAINS_MAX_LENGTH = 100
YES_NO = [("", "Either"), ("yes", "Yes"), ("no", "No")]
PAGE_PARAMS = ("page", "after", "before")  # where in the rows a page is: void once the rows change


def suggested_text(**options) -> forms.CharField:
    """A "contains" filter's field: static/js/suggest.js offers the column's values once enough is typed."""
    return forms.CharField(widget=forms.TextInput(attrs={"data-suggest-from": SUGGEST_FROM}), **options)


def table_query(params: QueryDict, *, without: Iterable[str] = (), page: int | str = 1) -> str:
    """A link's query to the same table: `params` without the names `without` and empty values, at `page`.

    The position in the rows (page, cursors) is dropped: page 1 needs none.
    """
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name not in without and name not in PAGE_PARAMS:
            kept.setlist(name, [value for value in values if value])
    if page != 1:
        kept["page"] = str(page)
    return f"?{kept.urlencode()}"


@dataclass(frozen=True)
class FilterChip:
    """A filter in force, as the page shows it, and the query of the same table without it."""

    label: str
    value: str
    remove_query: str


def page_number(text: str) -> int | str:
    """A `page` parameter: a number from 1, or "last"; empty is 1 (ValidationError otherwise)."""
    page = text.strip() or "1"
    if page == "last":
        return page
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 10**9:
        raise forms.ValidationError('Enter a page number from 1, or "last".')
    return int(page)


def filter_fields(column: Column) -> dict[str, forms.Field]:
    """The form fields filtering `column`, by filter_names, within its bounds where it has them."""
    label = column.label or column.name
    fields: dict[str, forms.Field] = {}
    if column.kind == "category":
        if column.choices:
            choices = [("", f"Any {label.lower()}"), *((value, value) for value in column.choices)]
            fields[column.name] = forms.ChoiceField(choices=choices, required=False, label=label)
        else:
            fields[column.name] = forms.CharField(required=False, label=label, max_length=CONTAINS_MAX_LENGTH)
    elif column.kind == "boolean":
        fields[column.name] = forms.ChoiceField(choices=YES_NO, required=False, label=label)
    elif column.kind in RANGED_KINDS:
        field_class = {"integer": forms.IntegerField, "number": forms.FloatField}.get(
            column.kind, forms.DateTimeField
        )
        bounds = {"min_value": column.minimum, "max_value": column.maximum} if column.is_numeric else {}
        fields[f"{column.name}_min"] = field_class(required=False, label=f"{label} from", **bounds)
        fields[f"{column.name}_max"] = field_class(required=False, label=f"{label} to", **bounds)
    else:
        fields[f"{column.name}_contains"] = suggested_text(
            required=False, max_length=CONTAINS_MAX_LENGTH, label=f"{label} contains"
        )
    if column.nullable:
        fields[f"{column.name}_empty"] = forms.ChoiceField(
            choices=YES_NO, required=False, label=f"{label} empty"
        )
    return fields


class TablePosition(forms.Form):
    """Where in a sorted table a page is: page size, page number, the cursor of a next or previous link.

    The forms of the monster table and of every dataset's add their `sort`
    choices and their filters.
    """

    per_page = forms.TypedChoiceField(
        label="Rows per page", choices=[(n, n) for n in PER_PAGE_CHOICES], coerce=int, required=False,
        empty_value=DEFAULT_PER_PAGE,
    )  # fmt: skip
    page = forms.CharField(required=False, max_length=12)
    after = forms.CharField(required=False, max_length=300)
    before = forms.CharField(required=False, max_length=300)

    POSITION = ("sort", "per_page", "page", "after", "before")

    def __init__(self, data=None, *args, **kwargs):
        # The default page size shows in the form when the URL gives none.
        if data is not None and not data.get("per_page"):
            data = data.copy()
            data["per_page"] = str(DEFAULT_PER_PAGE)
        super().__init__(data, *args, **kwargs)

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or ROW_ID

    def clean_page(self) -> int | str:
        return page_number(self.cleaned_data["page"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("after") and cleaned.get("before"):
            self.add_error("before", "Give either after or before, not both.")
        return cleaned

    def position(self) -> dict:
        """The cleaned sort, page size, page and cursors."""
        return {name: self.cleaned_data[name] for name in self.POSITION}


class FilterForm(forms.Form):
    """Filters of the rows of a table, per column (filter_fields); a subclass names the columns."""

    columns: tuple[Column, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for column in self.columns:
            low, high = cleaned.get(f"{column.name}_min"), cleaned.get(f"{column.name}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{column.name}_max", "Must not be below the lower bound.")
        return cleaned

    def filters(self) -> dict:
        """The filters given, as rows_matching takes them."""
        return {
            name: self.cleaned_data[name]
            for column in self.columns
            for name in filter_names(column)
            if self.cleaned_data.get(name) not in (None, "")
        }

    def chips(self, params: QueryDict) -> list[FilterChip]:
        """The filters in force (of a valid form), each with the query of `params` (the page's) without it."""
        chips = []
        for name, value in self.filters().items():
            if value in (None, ""):
                continue
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField):
                shown = str(dict(field.choices).get(value, value))
            else:  # as typed: 20 rather than 20.0, a time as written
                shown = str(params.get(name, value)).strip()
            chips.append(FilterChip(self[name].label, shown, table_query(params, without=[name])))
        return chips

    def cleared_query(self, params: QueryDict) -> str:
        """The query of `params` without any filter: the same sort and page size over every row."""
        return table_query(params, without=self.filters().keys())


def filter_form(columns: tuple[Column, ...], base: type[forms.Form] = FilterForm) -> type[FilterForm]:
    """A form class filtering by these columns, subclassing `base` (a FilterForm)."""
    attributes = {name: field for column in columns for name, field in filter_fields(column).items()}
    return type(base.__name__, (base,), {**attributes, "columns": columns})


class TableForm(TablePosition, FilterForm):
    """A dataset table's parameters; the subclass per description adds the filters and sort choices."""

    def page_options(self) -> dict:
        """The keyword arguments of table.dataset_table_page: sort, page size, position, filters."""
        return {**self.position(), "filters": self.filters()}


@lru_cache(maxsize=256)
def table_form(columns: tuple[Column, ...], *, row_ids: bool = True) -> type[TableForm]:
    """The form class of a table with these columns (one per description); `row_ids`: with the
    range of row ids the table page, its export and the API take (the charts do not)."""
    sorts = [ROW_ID, *(column.name for column in columns)]
    sort = forms.ChoiceField(
        choices=[(f"{sign}{name}", f"{sign}{name}") for name in sorts for sign in ("", "-")], required=False
    )
    filtered = (*columns, ROW_ID_COLUMN) if row_ids else columns
    return type("DatasetTableForm", (filter_form(filtered, TableForm),), {"sort": sort})


def rows_between(first_id: int, last_id: int) -> str:
    """The query string of a table page that shows the rows with ids `first_id` to `last_id`:
    where a load sends its user to see the rows it added."""
    low, high = filter_names(ROW_ID_COLUMN)
    return urlencode({low: first_id, high: last_id})


def rows_matching(queryset: QuerySet, columns: tuple[Column, ...], filters: dict) -> QuerySet:
    """`queryset` with the filters (as TableForm.filters gives them) applied."""
    by_name = {column.name: column for column in columns}
    conditions = Q()
    for key, value in filters.items():
        if key in by_name:
            column = by_name[key]
            conditions &= Q(**{key: value == "yes" if column.kind == "boolean" else value})
            continue
        name, _, end = key.rpartition("_")
        if end == "min":
            conditions &= Q(**{f"{name}__gte": value})
        elif end == "max":
            conditions &= Q(**{f"{name}__lte": value})
        elif end == "contains":
            conditions &= Q(**{f"{name}__icontains": value})
        elif end == "empty":
            conditions &= Q(**{f"{name}__isnull": value == "yes"})
    return queryset.filter(conditions)
