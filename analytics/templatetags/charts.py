"""{% chart_scripts %}: what a page with Plotly figures loads, once."""

from functools import cache

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join, json_script

from analytics import plotly_js
from analytics.charts import templates_dict

register = template.Library()


@cache
def _templates_json() -> dict:
    return templates_dict()


@register.simple_tag
def chart_scripts() -> str:
    """The site's chart templates (one per theme) as JSON, plotly.js (cached by the browser) with its
    stylesheets, and our drawing script."""
    links = format_html_join(
        "\n",
        '<link rel="stylesheet" id="{}" class="{}" href="{}">',
        ((sheet.element_id, sheet.css_class, static(sheet.path)) for sheet in plotly_js.page_stylesheets()),
    )
    return format_html(
        '{}\n{}\n<script src="{}" defer></script>\n<script src="{}" defer></script>',
        json_script(_templates_json(), "plotly-templates"),
        links,
        static(plotly_js.BUNDLE),
        static("js/charts.js"),
    )
