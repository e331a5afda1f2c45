"""Charts of an uploaded dataset: the same selectors and figures as the monsters', fields from its columns."""

import io

import pytest
from django.test import Client
from django.urls import reverse

from analytics import selectors
from analytics.datasets import dataset_create
from analytics.fields import chart_fields
from analytics.services import dataset_source, default_chart
from bandersnatch.columns import Column

pytestmark = pytest.mark.django_db


def shop_csv(rows: int = 300) -> str:
    """Sales with a price (number), a quantity (few whole numbers), a code (many), a shop (category),
    a flag (boolean), an item (text, 80 values, item-0 the most common) and a time."""
    lines = ["Price,Quantity,Code,Shop,Paid,Item,Sold at"]
    for i in range(rows):
        item = f"item-{min(i % 97, 79)}" if i % 3 else "item-0"
        paid = "" if i % 10 == 0 else ("yes" if i % 2 else "no")
        lines.append(
            f"{i * 1.5:.2f},{i % 7},{i * 1000},{'North' if i % 4 else 'South'},{paid},{item},2026-01-01"
        )
    return "\n".join(lines) + "\n"


def load(text: str, owner, **options):
    file = io.BytesIO(text.encode())
    file.name = "shop.csv"
    return dataset_create(file=file, name="Shop", owner=owner, **options)


@pytest.fixture
def shop(people):
    return load(shop_csv(), people["owner"])


def view_url(dataset) -> str:
    return reverse("analytics:dataset-view", args=[dataset.slug])


def figure_url(dataset) -> str:
    return reverse("analytics:dataset-figure", args=[dataset.slug])


def test_the_chart_fields_come_from_the_column_kinds(shop):
    fields = chart_fields(shop.column_list)
    assert fields.continuous == ("price",)
    assert fields.discrete == ("quantity", "code")
    assert fields.categorical == ("shop", "paid", "item")
    assert "sold_at" not in fields.chartable  # times are not charted (yet)
    assert fields.category_order["paid"] == (False, True)
    assert fields.label("sold_at") == "Sold at" and fields.noun == "rows"
    assert "paid" in fields.colors and "item" not in fields.colors  # 80 values: no legend for them
    # Measurements before whole numbers (counts, codes): price against quantity.
    assert default_chart(fields) == {
        "x": "price",
        "y": "quantity",
        "color": fields.colors[0],
        "kind": "scatter",
    }


def test_a_table_of_times_only_has_nothing_to_chart():
    fields = chart_fields((Column("at", "At", "datetime"),))
    assert fields.chartable == () and default_chart(fields) is None


def test_few_whole_numbers_get_a_bar_each_and_many_are_binned(shop):
    source = dataset_source(shop)
    rows, fields = source.rows({}), source.fields
    quantity = selectors.histogram_counts(rows, fields, x="quantity")
    assert quantity.axis.keys == list(range(7)) and not quantity.axis.is_binned
    code = selectors.histogram_counts(rows, fields, x="code")
    assert code.axis.is_binned and code.axis.edges[0] <= 0 and code.axis.edges[-1] >= 299_000
    assert code.total == 300


def test_a_filtered_whole_number_axis_spans_the_values_the_rows_have(shop):
    source = dataset_source(shop)
    counts = selectors.histogram_counts(
        source.rows({"quantity_min": 2, "quantity_max": 4}), source.fields, x="quantity"
    )
    assert counts.axis.keys == [2, 3, 4] and counts.total == shop_rows_where(lambda i: 2 <= i % 7 <= 4)
    box = selectors.box_stats(source.rows({"quantity_min": 5}), source.fields, y="price", x="quantity")
    assert box.axis.keys == [5, 6]


def test_a_text_axis_shows_its_most_common_values(shop):
    source = dataset_source(shop)
    counts = selectors.histogram_counts(source.rows({}), source.fields, x="item")
    assert len(counts.axis.keys) == selectors.TEXT_AXIS_VALUES
    assert counts.axis.keys[0] == "item-0"  # by count, the most common first
    assert "the 50 most common values of Item" in _title(source, kind="histogram", x="item")


def _title(source, **chosen) -> str:
    from analytics.services import figure_for

    chart = {"x": "price", "y": "price", "color": None, "kind": "scatter", **chosen}
    title = figure_for(source, **chart, filters={})["layout"]["title"]
    return f"{title['text']}, {title.get('subtitle', {}).get('text', '')}"


def test_the_page_draws_the_default_scatter_with_links_to_the_rows(shop, people):
    client = Client()
    client.force_login(people["owner"])
    response = client.get(view_url(shop))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Charts of Shop" in body and 'id="chart"' in body
    figure = response.context["figure"]
    assert figure["data"][0]["type"] == "scattergl"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Price"
    assert "showing all 300 rows" in figure["layout"]["title"]["subtitle"]["text"]
    config = response.context["chart_config"]
    assert config["rows_url"] == shop.get_absolute_url() and config["row_url"].endswith("/rows/0/")
    assert config["whole"] == ["quantity", "code"]


def test_filters_of_the_table_narrow_the_chart(shop, people):
    client = Client()
    client.force_login(people["owner"])
    params = {"kind": "histogram", "x": "shop", "quantity_min": 2, "quantity_max": 3, "paid": "yes"}
    response = client.get(figure_url(shop), params)
    assert response.status_code == 200
    body = response.json()
    shown = sum(sum(trace["y"]) for trace in body["figure"]["data"])
    expected = shop_rows_where(lambda i: 2 <= i % 7 <= 3 and i % 10 != 0 and i % 2 == 1)
    assert shown == expected
    assert body["rows_url"].startswith(shop.get_absolute_url() + "?") and "quantity_min=2" in body["rows_url"]


def shop_rows_where(condition) -> int:
    return sum(1 for i in range(300) if condition(i))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"x": "nope"}, "Unknown field nope"),
        (
            {"kind": "box", "y": "shop", "x": "paid"},
            "A box plot needs a numeric y axis: Quantity, Code, Price.",
        ),
        ({"color": "item"}, "Unknown colour field item"),
        ({"price_min": "cheap"}, "Enter a number"),
    ],
)
def test_bad_choices_are_400s_naming_the_problem(shop, people, params, message):
    client = Client()
    client.force_login(people["owner"])
    page = client.get(view_url(shop), params)
    assert page.status_code == 400 and message in page.content.decode()
    figure = client.get(figure_url(shop), params)
    assert figure.status_code == 400 and message in str(figure.json())


@pytest.mark.parametrize("kind", ["scatter", "histogram", "box", "density"])
def test_every_kind_draws_with_a_category_colour(shop, people, kind):
    client = Client()
    client.force_login(people["owner"])
    response = client.get(figure_url(shop), {"kind": kind, "x": "shop", "y": "price", "color": "paid"})
    assert response.status_code == 200
    traces = response.json()["figure"]["data"]
    names = {trace.get("name") for trace in traces}
    if kind != "density":
        assert {"False", "True"} <= names  # a group per value of the colour


@pytest.mark.parametrize("who, status", [(None, 404), ("other", 404), ("owner", 200), ("staff", 200)])
def test_a_private_datasets_charts_are_its_owners_and_staffs(shop, people, who, status):
    client = Client()
    if who:
        client.force_login(people[who])
    assert client.get(view_url(shop)).status_code == status
    assert client.get(figure_url(shop)).status_code == status


def test_a_public_datasets_charts_are_everyones(people):
    public = load(shop_csv(40), people["other"], is_public=True)
    assert Client().get(view_url(public)).status_code == 200


def test_a_dataset_of_times_says_it_has_nothing_to_chart(people):
    times = load("Sold at\n2026-01-01\n2026-01-02\n", people["owner"])
    client = Client()
    client.force_login(people["owner"])
    response = client.get(view_url(times))
    assert response.status_code == 200 and "no column that can be charted" in response.content.decode()
    assert client.get(figure_url(times)).status_code == 400


def test_the_built_in_monsters_chart_through_the_same_page(seeded_monsters):
    response = Client().get(
        reverse("analytics:dataset-view", args=["monsters"]), {"kind": "histogram", "x": "type"}
    )
    assert response.status_code == 200
    assert response.context["figure"]["layout"]["xaxis"]["title"]["text"] == "Type"


def test_the_column_filters_fold_away_unless_one_is_given(shop, people):
    client = Client()
    client.force_login(people["owner"])
    plain = client.get(view_url(shop)).content.decode()
    assert '<details class="row-filters">' in plain and 'name="price_min"' in plain
    filtered = client.get(view_url(shop), {"shop": "North"}).content.decode()
    assert '<details class="row-filters" open>' in filtered
