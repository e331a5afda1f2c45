"""The datasets' JSON API: who sees which, columns, rows page by page, errors as JSON."""

import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from analytics.datasets import dataset_create

pytestmark = pytest.mark.django_db
CSV = "City,Population,Founded\nLisbon,545000,2001-01-01\nPorto,232000,\nBraga,193000,2003-05-01\n"


def upload(text: str) -> io.BytesIO:
    file = io.BytesIO(text.encode())
    file.name = "cities.csv"
    return file


@pytest.fixture
def owner():
    return User.objects.create_user("owner")


@pytest.fixture
def cities(owner):
    return dataset_create(file=upload(CSV), name="Cities", owner=owner)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_holds_what_the_caller_may_see(cities, owner):
    assert [d["slug"] for d in Client().get("/api/datasets").json()] == ["monsters"]
    mine = signed_in(owner).get("/api/datasets").json()
    assert [d["slug"] for d in mine] == ["monsters", "cities"]
    assert mine[1]["row_count"] == 3 and mine[1]["column_count"] == 3 and mine[1]["owner"] == "owner"


def test_a_dataset_and_its_columns(cities, owner):
    detail = signed_in(owner).get("/api/datasets/cities").json()
    assert detail["columns"] == [
        {"name": "city", "label": "City", "kind": "text", "nullable": False, "choices": None},
        {"name": "population", "label": "Population", "kind": "integer", "nullable": False, "choices": None},
        {"name": "founded", "label": "Founded", "kind": "datetime", "nullable": True, "choices": None},
    ]


@pytest.mark.parametrize("url", ["/api/datasets/cities", "/api/datasets/cities/rows"])
def test_a_private_dataset_is_404_to_others(cities, url):
    for client in (Client(), signed_in(User.objects.create_user("other"))):
        response = client.get(url)
        assert response.status_code == 404 and response.json() == {"message": "No dataset 'cities'."}
    assert signed_in(User.objects.create_user("staff", is_staff=True)).get(url).status_code == 200


def test_rows_are_filtered_sorted_and_walked_by_next_links(cities, owner):
    client = signed_in(owner)
    text = "n,when\n" + "".join(f"{i},{'' if i % 5 == 0 else f'2026-01-{i + 1:02d}'}\n" for i in range(15))
    numbers = dataset_create(file=upload(text), name="Numbers", owner=owner)
    url = f"/api/datasets/{numbers.slug}/rows"
    page = client.get(url, {"sort": "-n", "per_page": 10}).json()
    assert [row["n"] for row in page["results"]] == list(range(14, 4, -1))
    assert page["count"] == 15 and page["previous"] is None and "after=" in page["next"]
    following = client.get(page["next"]).json()
    assert [row["n"] for row in following["results"]] == [4, 3, 2, 1, 0] and following["next"] is None
    # A column with empty cells pages by links too: its empty cells last.
    by_time = client.get(url, {"sort": "when_column", "per_page": 10}).json()  # "when" is a reserved word
    assert by_time["page"] == 1 and "page=2" in by_time["next"] and "after=" in by_time["next"]
    rest = client.get(by_time["next"]).json()["results"]
    assert [row["n"] for row in rest] == [13, 14, 0, 5, 10]
    assert all(row["when_column"] is None for row in rest[2:])
    filtered = client.get("/api/datasets/cities/rows", {"founded_empty": "no", "sort": "city"}).json()
    assert [(row["id"], row["city"]) for row in filtered["results"]] == [(3, "Braga"), (1, "Lisbon")]
    assert filtered["results"][1]["founded"] == "2001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "query, message",
    [
        ({"population_min": "many"}, "population_min: Enter a whole number."),
        ({"sort": "secret"}, "sort: Select a valid choice. secret is not one of the available choices."),
        ({"colour": "red"}, "Unknown parameters: colour."),
        ({"sort": "city", "after": "zzz"}, "Not a valid page cursor."),
    ],
)
def test_bad_parameters_are_400_naming_the_problem(cities, owner, query, message):
    response = signed_in(owner).get("/api/datasets/cities/rows", query)
    assert response.status_code == 400 and response.json() == {"message": message}
