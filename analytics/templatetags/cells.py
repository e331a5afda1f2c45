"""{{ value|cell }}: a dataset's cell as the table shows it (a filter: a table has thousands of cells)."""

import datetime as dt

from django import template
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

register = template.Library()
EMPTY = mark_safe('<span class="muted" title="empty">–</span>')  # noqa: S308 (a constant)


@register.filter
def cell(value):
    """Empty as a dash, booleans as yes/no, times as YYYY-MM-DD HH:MM, the rest as written (escaped)."""
    if value is None:
        return EMPTY
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, dt.datetime):
        return date_format(localtime(value) if value.tzinfo else value, "Y-m-d H:i")
    return value
