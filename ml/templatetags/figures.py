"""{{ share|percent }}: an accuracy or another share as every page shows it (bandersnatch.columns)."""

from django import template

from bandersnatch.columns import format_percent

register = template.Library()


@register.filter
def percent(share):
    return "" if share is None or share == "" else format_percent(float(share))
