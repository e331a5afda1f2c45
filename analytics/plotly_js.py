"""plotly.js as the pages load it: the strict bundle and the stylesheet taken out of it.

The strict bundle draws every trace kind (scattergl included) without eval, so
the Content-Security-Policy needs no 'unsafe-eval'.  plotly.js writes its own
CSS into a <style> element when it loads, which the policy refuses; it skips
that when the page already has an element with id "plotly.js-style-global"
and class "no-inline-styles", so the pages link the same rules as a
stylesheet of that id (templatetags/charts.py).  `make plotly-js` fetches the
bundle at the plotly package's version and writes the stylesheet beside it;
both are committed, so running the app needs no npm.
"""

import re
import sys
from pathlib import Path

from django.conf import settings

BUNDLE = "vendor/plotly-strict.min.js"
STYLESHEET = "vendor/plotly.css"
STYLESHEET_ID = "plotly.js-style-global"

# The rules object of plotly.js's build/plotcss.js, as the bundle carries it: {"X,X div":'...',...}
# with X for the plot's selector and Y for the notifier's.
_RULES = re.compile(r"""\{("X,X div":.*?)\};for\(""", re.DOTALL)
_RULE = re.compile(
    r"""\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[A-Za-z_$][\w$]*))\s*:"""  # the key, quoted or not
    r"""\s*(?P<rules>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?"""  # the declarations, in either quotes
)
_SELECTORS = {"X": ".js-plotly-plot .plotly", "Y": ".plotly-notifier"}
_VERSION = re.compile(r"plotly\.js [^\n]*?v(\d+\.\d+\.\d+)")


def bundle_path() -> Path:
    return Path(settings.BASE_DIR) / "static" / BUNDLE


def bundle_version(source: str) -> str:
    """The version in the bundle's licence header."""
    match = _VERSION.search(source[:500])
    if match is None:
        raise ValueError("No plotly.js version in the bundle's header.")
    return match.group(1)


def bundle_css(source: str) -> str:
    """The rules plotly.js would insert at load, as a stylesheet."""
    found = _RULES.search(source)
    if found is None:
        raise ValueError("No style rules found in the plotly.js bundle.")
    body = found.group(1)
    rules = list(_RULE.finditer(body))
    if sum(len(rule.group()) for rule in rules) != len(body):
        raise ValueError("The plotly.js style rules are not in the shape this reader knows.")
    lines = []
    for rule in reversed(rules):  # plotly.js inserts each rule at the top: the first ends last, wins ties
        key = (rule["quoted"] or rule["bare"]).replace(",", ", ")
        selector = re.sub("[XY]", lambda letter: _SELECTORS[letter.group()], key)
        lines.append(f"{selector} {{{rule['rules'][1:-1]}}}")
    header = f"/* plotly.js v{bundle_version(source)}: its style rules (analytics/plotly_js.py). */"
    return "\n".join([header, *lines]) + "\n"


if __name__ == "__main__":  # make plotly-js: python -m analytics.plotly_js BUNDLE > plotly.css
    sys.stdout.write(bundle_css(Path(sys.argv[1]).read_text(encoding="utf-8")))
