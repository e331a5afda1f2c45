import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from analytics import plotly_js
from analytics.fields import KINDS, MONSTER_FIELDS
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db
VIEW = reverse("analytics:view")
FIGURE = reverse("analytics:figure")
STATISTICS = reverse("analytics:statistics")


@pytest.fixture
def monsters():
    monsters_seed(count=250, seed=4)


def figure_of(response) -> dict:
    return response.context["figure"]


class TestView:
    def test_bare_view_draws_the_default_scatter(self, client, monsters):
        response = client.get(VIEW)
        assert response.status_code == 200
        figure = figure_of(response)
        assert figure["data"][0]["type"] == "scattergl"
        assert "Health against Level" in figure["layout"]["title"]["text"]
        content = response.content.decode()
        assert 'id="figure-data" type="application/json"' in content
        assert re.search(r'<script src="/static/vendor/plotly-strict\.min(\.\w+)?\.js" defer>', content)

    @pytest.mark.parametrize("kind", KINDS)
    def test_every_kind_draws(self, client, monsters, kind):
        response = client.get(VIEW, {"kind": kind, "x": "type", "y": "sanity", "color": "rarity"})
        assert response.status_code == 200
        expected = {"scatter": "scattergl", "histogram": "bar", "box": "box", "density": "heatmap"}[kind]
        assert {trace["type"] for trace in figure_of(response)["data"]} == {expected}

    def test_filters_narrow_the_chart_and_link_to_these_rows(self, client, monsters):
        response = client.get(
            VIEW, {"kind": "histogram", "x": "level", "type": "Fey", "level_min": 3, "q": "faerie"}
        )
        assert response.status_code == 200
        assert response.context["rows_url"] == "/data/?type=Fey&level_min=3&q=faerie"
        assert 'href="/data/?type=Fey&amp;level_min=3&amp;q=faerie"' in response.content.decode()

    def test_the_form_keeps_resource_ranges_from_the_url(self, client, monsters):
        response = client.get(VIEW, {"health_min": 10, "health_max": 50})
        content = response.content.decode()
        assert '<input type="hidden" name="health_min" value="10">' in content
        assert "health_min=10" in response.context["rows_url"]

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"x": "nope"}, "Unknown field nope. Allowed: " + ", ".join(MONSTER_FIELDS.chartable)),
            ({"y": "password"}, "Unknown field password. Allowed:"),
            ({"color": "health"}, "Unknown colour field health. Allowed: rarity, type, level."),
            ({"kind": "pie"}, "Unknown chart kind pie. Allowed: scatter, histogram, box, density."),
            (
                {"kind": "box", "y": "name"},
                "A box plot needs a numeric y axis: Level, Health, Energy, Sanity.",
            ),
            ({"rarity": "Rank 9"}, "Select a valid choice"),
            ({"level_min": "abc"}, "Enter a whole number"),
            ({"level_min": "7", "level_max": "2"}, "Must not be below the lower bound"),
        ],
    )
    def test_bad_input_is_a_400_page_saying_what_is_allowed(self, client, monsters, params, message):
        response = client.get(VIEW, params)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert "<code>" not in response.content.decode()  # fields named by their labels, not parameters

    def test_without_data_the_page_says_how_to_seed(self, client):
        response = client.get(VIEW)
        assert response.status_code == 200
        assert "There are no monsters yet" in response.content.decode()
        assert "manage.py seed" in response.content.decode()

    @pytest.mark.parametrize("kind", ["scatter", "histogram", "box", "density"])
    def test_a_chart_of_no_matching_rows_says_so_instead_of_drawing_empty_axes(self, client, monsters, kind):
        response = client.get(VIEW, {"q": "no such monster", "kind": kind, "x": "level", "y": "health"})
        assert response.status_code == 200
        figure = figure_of(response)
        assert figure["data"] == []
        assert figure["layout"]["annotations"][0]["text"] == "No monsters match these filters."
        assert figure["layout"]["meta"]["caption"].endswith("No monsters match these filters.")


class TestFigureJson:
    def test_returns_the_figure_and_rows_link(self, client, monsters):
        response = client.get(FIGURE, {"kind": "density", "x": "health", "y": "energy", "rarity": "Rank 1"})
        assert response.status_code == 200
        body = response.json()
        assert body["figure"]["data"][0]["type"] == "heatmap"
        assert body["rows_url"] == "/data/?rarity=Rank+1"

    def test_bad_input_is_a_400_naming_the_problem(self, client, monsters):
        response = client.get(FIGURE, {"kind": "pie"})
        assert response.status_code == 400
        assert (
            response.json()["message"]
            == "Chart: Unknown chart kind pie. Allowed: scatter, histogram, box, density."  # by its label
        )
        assert "kind" in response.json()["errors"]

    def test_only_get(self, client):
        assert client.post(FIGURE).status_code == 405


class TestCaching:
    def test_charts_follow_the_data(self, client, monsters):
        before = figure_of(client.get(VIEW, {"kind": "histogram", "x": "type"}))
        monsters_seed(count=50, seed=1)
        after = figure_of(client.get(VIEW, {"kind": "histogram", "x": "type"}))
        total = lambda figure: sum(sum(trace["y"]) for trace in figure["data"])  # noqa: E731
        assert (total(before), total(after)) == (250, 300)


class TestStatistics:
    def test_shows_every_column_and_the_figures(self, client, monsters):
        response = client.get(STATISTICS)
        assert response.status_code == 200
        content = response.content.decode()
        for column in (
            "name",
            "type",
            "level",
            "rarity",
            "damage",
            "health",
            "energy",
            "sanity",
            "created_at",
        ):
            assert f'href="#column-{column}"' in content
        for element in ("figure-balance", "figure-correlation", "figure-column-health", "figure-column-name"):
            assert f'id="{element}" type="application/json"' in content
        assert "250 monsters" in content

    def test_is_cached_until_the_data_change(self, client, monsters, django_assert_max_num_queries):
        client.get(STATISTICS)
        with django_assert_max_num_queries(6) as queries:
            assert client.get(STATISTICS).status_code == 200
        sql = " ".join(query["sql"].upper() for query in queries.captured_queries)
        assert "GROUP BY" not in sql and "COUNT(" not in sql  # only the data version is read
        monsters_seed(count=10, seed=2)
        assert client.get(STATISTICS).context["profile"].rows == 260

    def test_without_data_the_page_says_how_to_seed(self, client):
        content = client.get(STATISTICS).content.decode()
        assert "There are no monsters yet" in content and "manage.py seed" in content


def test_plotly_js_is_the_strict_bundle_at_the_plotly_packages_version_with_its_own_styles():
    from plotly.offline import get_plotlyjs_version

    assert finders.find(plotly_js.BUNDLE) == str(plotly_js.STATIC_DIR / plotly_js.BUNDLE)
    source = (plotly_js.STATIC_DIR / plotly_js.BUNDLE).read_text(encoding="utf-8")
    assert plotly_js.bundle_version(source) == get_plotlyjs_version()  # else: make plotly-js
    plotly, maplibre = plotly_js.stylesheets(source)
    for sheet in (plotly, maplibre):  # as committed, else: make plotly-js
        assert Path(finders.find(sheet.path)).read_text(encoding="utf-8") == sheet.css
    assert ".js-plotly-plot .plotly .modebar {" in plotly.css and ".plotly-notifier {" in plotly.css
    assert (plotly.element_id, plotly.css_class) == ("plotly.js-style-global", "no-inline-styles")
    assert ".maplibregl-map{" in maplibre.css and f'getElementById("{maplibre.element_id}")' in source
    # The style attribute the policy allows on heat maps is the one this bundle writes.
    assert plotly_js.crisp_pixels_style(source) in plotly_js.FIXED_STYLE_ATTRIBUTES


def test_plotly_styles_reader_refuses_a_bundle_it_does_not_know():
    with pytest.raises(ValueError, match="No style rules"):
        plotly_js.plotly_css("/* plotly.js v9.9.9 */ var rules = {};")
    with pytest.raises(ValueError, match="not in the shape"):
        plotly_js.plotly_css('/* plotly.js v9.9.9 */ x={"X,X div":"a:b;",Y:someVariable};for(k in x)')
    with pytest.raises(ValueError, match="No maplibre styles"):
        plotly_js.stylesheets('/* plotly.js v9.9.9 */ x={"X,X div":"a:b;"};for(k in x)')
    with pytest.raises(ValueError, match="No crisp-pixels style"):
        plotly_js.crisp_pixels_style("var x = 1;")
    with pytest.raises(ValueError, match="No plotly.js version"):
        plotly_js.bundle_version("var x = 1;")


def test_a_chart_page_loads_plotly_and_the_site_template_once(client, monsters):
    content = client.get(VIEW).content.decode()
    assert content.count(plotly_js.BUNDLE) == 1
    # plotly.js finds its styles linked and writes no <style> (which the CSP would refuse).
    for sheet in plotly_js.page_stylesheets():
        assert f'<link rel="stylesheet" id="{sheet.element_id}" class="{sheet.css_class}"' in content
    assert content.count('id="plotly-templates"') == 1
    assert '"paper_bgcolor": "#171a23"' in content
