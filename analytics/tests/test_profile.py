"""The statistics profile of any dataset: exact figures, shapes from the rows or a sample."""

import io
import math

import pytest
from django.contrib.auth.models import User
from django.test import Client

from analytics import profile as profiles
from analytics.datasets import dataset_create

pytestmark = pytest.mark.django_db
CSV = (
    "Score,Weight,Colour,Alive,When,Note\n"
    "1,10.0,red,yes,2026-01-01,a\n"
    "2,20.0,red,no,2026-01-02,\n"
    "3,,blue,yes,2026-01-03,b\n"
    "4,40.0,red,,2026-01-04,\n"
    "5,50.0,green,no,2026-01-05,c\n"
)


def upload(text: str) -> io.BytesIO:
    file = io.BytesIO(text.encode())
    file.name = "things.csv"
    return file


@pytest.fixture
def owner():
    return User.objects.create_user("owner")


@pytest.fixture
def things(owner):
    return dataset_create(file=upload(CSV), name="Things", owner=owner)


def by_name(profile) -> dict:
    return {column.name: column for column in profile.columns}


def test_exact_figures_of_every_kind(things):
    profile = profiles.dataset_profile_compute(things)
    assert profile.rows == 5 and profile.sampled_from is None
    columns = by_name(profile)
    score, weight = columns["score"], columns["weight"]
    assert (score.count, score.nulls, score.distinct, score.minimum, score.maximum) == (5, 0, 5, 1, 5)
    assert (
        score.mean == 3.0 and math.isclose(score.std, math.sqrt(2.5)) and score.quartiles == [2.0, 3.0, 4.0]
    )
    assert score.distribution == (["1", "2", "3", "4", "5"], [1, 1, 1, 1, 1])  # a bar per value
    assert (weight.count, weight.nulls, weight.mean) == (4, 1, 30.0)
    assert columns["colour"].top == [("red", 3), ("blue", 1), ("green", 1)]
    assert columns["alive"].top == [("no", 2), ("yes", 2)] and columns["alive"].nulls == 1
    assert columns["when_column"].minimum.day == 1 and columns["when_column"].maximum.day == 5
    assert columns["note"].nulls == 2
    assert math.isclose(profile.correlation.loc["score", "weight"], 1.0)


def test_a_large_table_is_shaped_from_a_sample(owner, monkeypatch):
    monkeypatch.setattr(profiles, "EXACT_ROWS", 1_000)
    monkeypatch.setattr(profiles, "SAMPLE_ROWS", 500)
    text = "n,x,kind\n" + "".join(f"{i},{i % 97 / 7},{'ab'[i % 2]}\n" for i in range(20_000))
    dataset = dataset_create(file=upload(text), name="Big", owner=owner)
    profile = profiles.dataset_profile_compute(dataset)
    assert profile.rows == 20_000 and 0 < profile.sampled_from < 20_000
    n = by_name(profile)["n"]
    assert (n.minimum, n.maximum, n.mean) == (0, 19_999, 9_999.5)  # exact, not from the sample
    assert n.distinct_is_estimate and 1_000 < n.quartiles[1] < 19_000
    assert sum(count for _, count in by_name(profile)["kind"].top) == pytest.approx(20_000, rel=0.01)


def test_the_page_and_the_api(things, owner):
    client = Client()
    client.force_login(owner)
    page = client.get(f"/datasets/{things.slug}/analytics/")
    assert page.status_code == 200 and "5 rows, 6 columns" in page.content.decode()
    body = client.get(f"/api/datasets/{things.slug}/profile").json()
    assert body["rows"] == 5 and body["sampled_from"] is None
    weight = next(column for column in body["columns"] if column["name"] == "weight")
    assert (weight["nulls"], weight["mean"], weight["minimum"], weight["maximum"]) == (1, 30.0, 10.0, 50.0)


def test_a_private_profile_is_404_to_others(things):
    other = Client()
    other.force_login(User.objects.create_user("other"))
    for client in (Client(), other):
        assert client.get(f"/datasets/{things.slug}/analytics/").status_code == 404
        assert client.get(f"/api/datasets/{things.slug}/profile").status_code == 404


def test_the_profile_is_cached_until_the_rows_change(things, django_assert_num_queries):
    profiles.dataset_profile(things)
    with django_assert_num_queries(0):
        profiles.dataset_profile(things)
