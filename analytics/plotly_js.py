"""plotly.js as the pages load it: the strict bundle, and the styles it carries as stylesheets.

The strict bundle draws every trace kind (scattergl included) without eval, so
the Content-Security-Policy needs no 'unsafe-eval'.  When it loads, plotly.js
writes two <style> elements, which the policy refuses: its own rules, unless
the page has an element with id "plotly.js-style-global" and class
"no-inline-styles", and maplibre's (for map traces), unless an element has the
id maplibre looks for.  So the pages link the same rules as stylesheets with
those ids (templatetags/charts.py).  `make plotly-js` fetches the bundle at the
plotly package's version and writes the stylesheets beside it; all are
committed, so running the app needs no npm.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUNDLE = "vendor/plotly-strict.min.js"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# The rules object of plotly.js's build/plotcss.js, as the bundle carries it: {"X,X div":'...',...}
# with X for the plot's selector and Y for the notifier's.
_RULES = re.compile(r"""\{("X,X div":.*?)\};for\(""", re.DOTALL)
_RULE = re.compile(
    r"""\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[A-Za-z_$][\w$]*))\s*:"""  # the key, quoted or not
    r"""\s*(?P<rules>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?"""  # the declarations, in either quotes
)
_SELECTORS = {"X": ".js-plotly-plot .plotly", "Y": ".plotly-notifier"}
# maplibre-gl's injector: if(!document.getElementById("<id>")){...e.textContent='<css>',...
_MAPLIBRE = re.compile(
    r"""getElementById\("(?P<id>[0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\);"""
    r"""\2\.id="(?P=id)",\2\.textContent='(?P<css>(?:[^'\\]|\\.)*)'"""
)
# The crisp-pixels declarations for heat maps: CSS_DECLARATIONS=[["image-rendering","pixelated"],...]
_CRISP_PIXELS = re.compile(r"CSS_DECLARATIONS=(\[\[.*?\]\])")
_VERSION = re.compile(r"plotly\.js [^\n]*?v(\d+\.\d+\.\d+)")


# Style attributes plotly.js writes with fixed values no stylesheet can stand in for: an empty
# one on colour bars' fills, and crisp pixels on heat maps drawn as images.  The policy allows
# exactly these values ('unsafe-hashes' with their hashes), no other style attribute.
FIXED_STYLE_ATTRIBUTES = (
    "",
    "image-rendering: optimizeSpeed; image-rendering: -moz-crisp-edges; image-rendering: -o-crisp-edges; "
    "image-rendering: -webkit-optimize-contrast; image-rendering: optimize-contrast; "
    "image-rendering: crisp-edges; image-rendering: pixelated; ",
)


def csp_hash(value: str) -> str:
    """A source expression of the Content-Security-Policy allowing exactly `value`."""
    digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def crisp_pixels_style(source: str) -> str:
    """The style attribute the bundle puts on heat map images (as plotly.js builds it)."""
    found = _CRISP_PIXELS.search(source)
    if found is None:
        raise ValueError("No crisp-pixels style found in the plotly.js bundle.")
    return "".join(f"{name}: {value}; " for name, value in json.loads(found.group(1)))


@dataclass(frozen=True)
class Stylesheet:
    path: str  # under static/
    element_id: str  # the id plotly.js looks for before writing a <style>
    css_class: str
    css: str


def bundle_version(source: str) -> str:
    """The version in the bundle's licence header."""
    match = _VERSION.search(source[:500])
    if match is None:
        raise ValueError("No plotly.js version in the bundle's header.")
    return match.group(1)


def plotly_css(source: str) -> str:
    """The rules plotly.js would insert at load, as a stylesheet."""
    found = _RULES.search(source)
    if found is None:
        raise ValueError("No style rules found in the plotly.js bundle.")
    body = found.group(1)
    rules = list(_RULE.finditer(body))
    if sum(len(rule.group()) for rule in rules) != len(body):
        raise ValueError("The plotly.js style rules are not in the shape this reader knows.")
    lines = [f"/* plotly.js v{bundle_version(source)}: its style rules (analytics/plotly_js.py). */"]
    for rule in reversed(rules):  # plotly.js inserts each rule at the top: the first ends last, wins ties
        key = (rule["quoted"] or rule["bare"]).replace(",", ", ")
        selector = re.sub("[XY]", lambda letter: _SELECTORS[letter.group()], key)
        lines.append(f"{selector} {{{rule['rules'][1:-1]}}}")
    return "\n".join(lines) + "\n"


def stylesheets(source: str) -> list[Stylesheet]:
    """Every <style> the bundle would write, as a stylesheet and the id that stops it."""
    maplibre = _MAPLIBRE.search(source)
    if maplibre is None:
        raise ValueError("No maplibre styles found in the plotly.js bundle.")
    header = (
        f"/* maplibre-gl's style rules, from plotly.js v{bundle_version(source)} (analytics/plotly_js.py). */"
    )
    return [
        Stylesheet("vendor/plotly.css", "plotly.js-style-global", "no-inline-styles", plotly_css(source)),
        Stylesheet("vendor/maplibre.css", maplibre["id"], "", f"{header}\n{maplibre['css']}\n"),
    ]


@cache
def page_stylesheets() -> list[Stylesheet]:
    """The committed bundle's stylesheets, read once per process."""
    return stylesheets((STATIC_DIR / BUNDLE).read_text(encoding="utf-8"))


if __name__ == "__main__":  # make plotly-js: write the committed bundle's stylesheets beside it
    for stylesheet in stylesheets((STATIC_DIR / BUNDLE).read_text(encoding="utf-8")):
        (STATIC_DIR / stylesheet.path).write_text(stylesheet.css, encoding="utf-8")
