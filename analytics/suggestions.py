"""Suggestions for a table's "contains" filters: values of the column that hold what was typed.

The rows are the table's own filter for that text (the monsters' name search,
a dataset's `<column>_contains`), so a suggestion always finds rows and the
query takes the filter's index: on PostgreSQL the trigram index, which
answers from three characters on (a shorter text has no trigram).  Only the
first ROWS_READ matching rows are read, so a text that matches half a
million rows costs as little as a rare one; SQLite matches with a plain LIKE.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django import forms
from django.db.models import QuerySet
from django.http import JsonResponse

from bandersnatch.db import QueryTimedOut, time_limited_queries

SUGGESTIONS_MAX = 10
SUGGEST_FROM = 3  # characters typed before anything is suggested
ROWS_READ = 1_000
TOO_SLOW = "The suggestions took too long to compute; type a few more characters."


def values_containing(rows: QuerySet, field: str, text: str) -> list[str]:
    """Up to SUGGESTIONS_MAX distinct values of `field` among the first ROWS_READ of `rows`.

    `rows` are those whose `field` contains `text`.  Values that start with
    it come first, then those with a word that does, each in alphabetical
    order; [] when `text` is shorter than SUGGEST_FROM.
    """
    if len(text) < SUGGEST_FROM:
        return []
    # No ORDER BY: a sort would read every matching row before the first.
    values = {value for value in rows.order_by().values_list(field, flat=True)[:ROWS_READ] if value}
    typed = text.casefold()
    word_start = re.compile(rf"(?:^|\W){re.escape(typed)}")

    def rank(value: str) -> tuple:
        folded = value.casefold()
        return (not folded.startswith(typed), not word_start.search(folded), folded, value)

    return sorted(values, key=rank)[:SUGGESTIONS_MAX]


def suggestions_response(
    form: forms.Form, name: str, rows: Callable[[str], QuerySet], field: str
) -> JsonResponse:
    """The answer of a suggestions endpoint for the text in the form's field `name`.

    {"suggestions": [...]}, or {"message": ...} naming the parameter: 400 when
    it is missing or invalid (by the table filter's own bounds), 503 when the
    database takes too long.  `rows(text)`: the rows that filter keeps.
    """
    if not form.is_valid():
        invalid, errors = next(iter(form.errors.items()))
        return JsonResponse({"message": f"{invalid}: {errors[0]}"}, status=400)
    text = form.cleaned_data[name]
    if not text:
        return JsonResponse({"message": f"{name}: Give the text to complete."}, status=400)
    try:
        with time_limited_queries(work_mem=None):
            suggestions = values_containing(rows(text), field, text)
    except QueryTimedOut:
        return JsonResponse({"message": TOO_SLOW}, status=503)
    return JsonResponse({"suggestions": suggestions})
