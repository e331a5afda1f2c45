"""The dataset pages: the list, the table with its filters and sorts, a row; who sees what."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from analytics.datasets import dataset_create

pytestmark = pytest.mark.django_db
CSV = (
    "City,Population,Coastal,Founded,Region,Note\n"
    "Lisbon,545000,yes,1147-01-01,South,\n"
    "Porto,232000,yes,1123-01-01,North,wine\n"
    "Braga,193000,no,,North,\n"
    "Evora,53000,no,1166-01-01,South,old walls\n"
    "Faro,64000,yes,,South,\n"
)


def upload(text: str) -> io.BytesIO:
    file = io.BytesIO(text.encode())
    file.name = "cities.csv"
    return file


@pytest.fixture
def people():
    return {
        "owner": User.objects.create_user("owner"),
        "other": User.objects.create_user("other"),
        "staff": User.objects.create_user("staff", is_staff=True),
    }


@pytest.fixture
def cities(people):
    # Founded holds years before 1970: the default bounds refuse them, so those cells become empty.
    return dataset_create(file=upload(CSV), name="Cities", owner=people["owner"], empty_bad_cells=True)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def first_column(response) -> list[str]:
    """The first data column of the table (after the id), as shown."""
    body = response.content.decode()
    rows = re.findall(r"<tr>\s*<td class=\"col-id\">.*?</td>\s*<td>(.*?)</td>", body, re.S)
    return [row.strip() for row in rows]


def test_the_list_shows_the_monsters_first_and_only_what_each_visitor_may_see(cities, people):
    public = dataset_create(file=upload(CSV), name="Open cities", owner=people["other"], is_public=True)
    url = reverse("analytics:datasets")
    for user, expected in (
        (None, ["Monsters", "Open cities"]),
        (people["other"], ["Monsters", "Open cities"]),
        (people["owner"], ["Monsters", "Cities", "Open cities"]),
        (people["staff"], ["Monsters", "Cities", "Open cities"]),
    ):
        body = client_for(user).get(url).content.decode()
        names = re.findall(r'<td><a href="/datasets/[^"]+/">([^<]+)</a>', body)
        assert names == expected, user
    assert public.slug == "open-cities"


@pytest.mark.parametrize("who, status", [(None, 404), ("other", 404), ("owner", 200), ("staff", 200)])
def test_a_private_dataset_is_seen_by_its_owner_and_staff_only(cities, people, who, status):
    client = client_for(people.get(who))
    for url in (cities.get_absolute_url(), reverse("analytics:dataset-row", args=[cities.slug, 1])):
        assert client.get(url).status_code == status


def test_sorting_by_every_column_both_ways(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    assert first_column(client.get(url, {"sort": "population"})) == [
        "Evora",
        "Faro",
        "Braga",
        "Porto",
        "Lisbon",
    ]
    assert first_column(client.get(url, {"sort": "-city"})) == ["Porto", "Lisbon", "Faro", "Evora", "Braga"]
    for column in cities.columns:
        for sort in (column["name"], f"-{column['name']}"):
            response = client.get(url, {"sort": sort})
            assert response.status_code == 200 and len(first_column(response)) == 5, sort


def test_filters_by_kind(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    assert first_column(client.get(url, {"region": "North"})) == ["Porto", "Braga"]
    assert first_column(client.get(url, {"coastal": "no"})) == ["Braga", "Evora"]
    assert first_column(client.get(url, {"population_min": 60000, "population_max": 300000})) == [
        "Porto", "Braga", "Faro",
    ]  # fmt: skip
    assert first_column(client.get(url, {"note_contains": "WINE"})) == ["Porto"]
    assert first_column(client.get(url, {"note_empty": "yes", "region": "South"})) == ["Lisbon", "Faro"]


def test_pages_follow_on_by_links(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    seen = []
    response = client.get(url, {"sort": "-population", "per_page": 10})
    assert response.status_code == 200
    seen += first_column(response)
    assert seen == ["Lisbon", "Porto", "Braga", "Faro", "Evora"]
    small = dataset_create(
        file=upload("n\n" + "".join(f"{i}\n" for i in range(25))), name="N", owner=people["owner"]
    )
    page_one = client.get(small.get_absolute_url(), {"sort": "-n", "per_page": 10}).content.decode()
    next_link = re.search(r'rel="next" href="([^"]+)"', page_one).group(1).replace("&amp;", "&")
    page_two = client.get(small.get_absolute_url() + next_link)
    assert first_column(page_two) == [str(n) for n in range(14, 4, -1)]


def test_bad_parameters_say_what_is_wrong(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    for query, message in (
        ({"population_min": "many"}, "Population from: Enter a whole number."),
        ({"population_min": 5, "population_max": 1}, "to: Must not be below the lower bound."),
        ({"sort": "secret"}, "Select a valid choice."),
        ({"sort": "population", "after": "not-a-cursor"}, "Not a valid page cursor."),
        ({"page": "zero"}, "Enter a page number from 1"),
    ):
        response = client.get(url, query)
        assert response.status_code == 400 and message in response.content.decode(), query


def test_a_row_page_shows_every_column(cities, people):
    body = (
        client_for(people["owner"])
        .get(reverse("analytics:dataset-row", args=[cities.slug, 2]))
        .content.decode()
    )
    assert "Porto" in body and "232000" in body and "wine" in body
    assert (
        client_for(people["owner"]).get(reverse("analytics:dataset-row", args=[cities.slug, 99])).status_code
        == 404
    )


def test_the_built_in_monsters_through_the_same_pages(seeded_monsters):
    response = Client().get(
        reverse("analytics:dataset", args=["monsters"]), {"sort": "-level", "type": "Dragon"}
    )
    assert response.status_code == 200
    assert "matching rows" in response.content.decode()
