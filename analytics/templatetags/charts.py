"""{% chart_scripts %}: what a page with Plotly figures loads, once."""

from functools import cache

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, json_script

from analytics.charts import templates_dict

register = template.Library()


@cache
def _templates_json() -> dict:
    return templates_dict()


@register.simple_tag
def chart_scripts() -> str:
    """The site's chart templates (one per theme) as JSON, plotly.js (cached by the browser) and our
    drawing script."""
    return format_html(
        '{}\n<script src="{}" defer></script>\n<script src="{}" defer></script>',
        json_script(_templates_json(), "plotly-templates"),
        static("vendor/plotly.min.js"),
        static("js/charts.js"),
    )
