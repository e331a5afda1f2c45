"""{% chart_scripts %}: what a page with Plotly figures loads, once."""

from functools import cache

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, json_script

from analytics.charts import template_dict

register = template.Library()


@cache
def _template_json() -> dict:
    return template_dict()


@register.simple_tag
def chart_scripts() -> str:
    """The site's chart template as JSON, plotly.js (cached by the browser) and our drawing script."""
    return format_html(
        '{}\n<script src="{}" defer></script>\n<script src="{}" defer></script>',
        json_script(_template_json(), "plotly-template"),
        static("vendor/plotly.min.js"),
        static("js/charts.js"),
    )
