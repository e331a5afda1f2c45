"""The dataset pages: the list, the table with its filters and sorts, a row; who sees what."""

import csv
import io
import re

import pytest
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
    rows = re.findall(r"<tr>\s*<td class=\"col-id\">.*?</td>\s*<td[^>]*>(.*?)</td>", body, re.S)
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


# Upload -----------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run_worker() -> None:
    from bandersnatch.tests.test_jobs import run_worker as run

    run()


def csv_upload(text: str, name: str = "cities.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_upload_preview_change_a_kind_and_load_as_a_job(media, people):
    from analytics.models import Dataset

    client = client_for(people["owner"])
    response = client.post(reverse("analytics:dataset-new"), {"file": csv_upload(CSV), "name": "My cities"})
    assert response.status_code == 302
    preview_url = response["Location"]
    page = client.get(preview_url).content.decode()
    assert "Lisbon" in page and 'value="integer" selected' in page  # Population
    choices = {"keep_0": "on", "kind_0": "text", "label_0": "Town", "kind_1": "number", "label_1": "People",
               "keep_2": "on", "kind_2": "boolean", "kind_3": "datetime", "kind_4": "category",
               "keep_5": "on", "kind_5": "text", "empty_bad_cells": "on"}  # fmt: skip
    response = client.post(preview_url, choices)
    assert response.status_code == 302 and "/ops/jobs/" in response["Location"]
    assert len(list(media.glob("uploads/*"))) == 1  # waiting for the worker
    run_worker()
    job_page = client.get(response["Location"]).content.decode()
    assert "succeeded" in job_page and "Loaded 5 rows and 3 columns as My cities." in job_page
    dataset = Dataset.objects.get(name="My cities")
    assert dataset.owner == people["owner"] and not dataset.is_public
    # Population, Founded and Region were left out (no "keep"); City renamed and made text.
    assert [(c["name"], c["label"], c["kind"]) for c in dataset.columns] == [
        ("town", "Town", "text"), ("coastal", "Coastal", "boolean"), ("note", "Note", "text"),
    ]  # fmt: skip
    assert list(media.glob("uploads/*")) == []  # the stored file is gone once loaded


def test_a_refused_load_fails_its_job_naming_the_cells(media, people):
    client = client_for(people["owner"])
    text = "n\n" + "1\n" * 10_005 + "lots\n"
    response = client.post(reverse("analytics:dataset-new"), {"file": csv_upload(text, "n.csv")})
    response = client.post(response["Location"], {"keep_0": "on", "kind_0": "integer"})
    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert "failed" in page and "row 10007, n: &#x27;lots&#x27;: Not a whole number." in page
    assert list(media.glob("uploads/*")) == []


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The submitted file is empty."),
        (b"a,b\n", "The file has a header but no rows."),
        (b"a,b\n1,2\n3,4,5\n", "Row 3 has 3 cells, the header 2."),
        (b"\xff\xfe\x00a\x00", "This is not a CSV file: it holds binary data."),
    ],
)
def test_files_that_cannot_be_read_are_refused_on_the_page(media, people, data, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(people["owner"])
    response = client.post(reverse("analytics:dataset-new"), {"file": SimpleUploadedFile("x.csv", data)})
    assert response.status_code == 400 and message in response.content.decode()
    assert list(media.glob("uploads/*")) == []


def test_uploads_need_a_sign_in_and_previews_are_their_uploaders(media, people):
    url = reverse("analytics:dataset-new")
    assert client_for().get(url).status_code == 302
    owner = client_for(people["owner"])
    preview_url = owner.post(url, {"file": csv_upload(CSV)})["Location"]
    assert owner.get(preview_url).status_code == 200
    assert client_for(people["other"]).get(preview_url).status_code == 404
    assert client_for(people["staff"]).get(preview_url).status_code == 404


# Export and delete ------------------------------------------------------------------


@pytest.mark.parametrize("who, status", [(None, 302), ("other", 404), ("owner", 200), ("staff", 200)])
def test_the_csv_export_is_for_those_who_may_see_it_signed_in(cities, people, who, status):
    response = client_for(people.get(who)).get(reverse("analytics:dataset-export", args=[cities.slug]))
    assert response.status_code == status


def test_the_export_is_the_filtered_sorted_view_and_formula_safe(people):
    text = "Name,Score,Note\n=SUM(A1),3,\nplain,1,-2 apples\n@home,2,ok\n"
    dataset = dataset_create(file=upload(text), name="Risky", owner=people["owner"])
    client = client_for(people["owner"])
    response = client.get(reverse("analytics:dataset-export", args=[dataset.slug]), {"sort": "-score"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == ["id,name,score,note", "1,'=SUM(A1),3,", "3,'@home,2,ok", "2,plain,1,'-2 apples"]
    filtered = client.get(reverse("analytics:dataset-export", args=[dataset.slug]), {"score_min": 2})
    assert len(b"".join(filtered.streaming_content).decode().splitlines()) == 3
    bad = client.get(reverse("analytics:dataset-export", args=[dataset.slug]), {"score_min": "x"})
    assert bad.status_code == 400


@pytest.mark.parametrize("who, status", [("other", 404), ("staff", 302), ("owner", 302)])
def test_only_the_owner_and_staff_delete_after_confirming(cities, people, who, status):
    from analytics.models import Dataset

    client = client_for(people[who])
    url = reverse("analytics:dataset-delete", args=[cities.slug])
    if status == 302:
        assert "cannot be undone" in client.get(url).content.decode()
    assert client.post(url).status_code == status
    assert Dataset.objects.filter(slug=cities.slug).exists() == (status != 302)


def test_a_public_dataset_is_not_deleted_by_others(people):
    public = dataset_create(file=upload(CSV), name="Shared", owner=people["owner"], is_public=True)
    assert (
        client_for(people["other"]).post(reverse("analytics:dataset-delete", args=[public.slug])).status_code
        == 403
    )
    assert client_for().get(reverse("analytics:dataset-delete", args=[public.slug])).status_code == 302
    assert (
        client_for(people["staff"]).get(reverse("analytics:dataset-delete", args=["monsters"])).status_code
        == 403
    )


def test_the_owner_replaces_the_rows_through_a_job(media, cities, people):
    client = client_for(people["owner"])
    url = reverse("analytics:dataset-replace", args=[cities.slug])
    assert client_for(people["other"]).get(url).status_code == 404
    assert client_for(people["staff"]).get(url).status_code == 200
    refused = client.post(url, {"file": csv_upload("City,Population\nX,1\n")})
    assert refused.status_code == 400 and "missing Coastal, Founded, Region, Note" in refused.content.decode()
    new_rows = CSV.replace("Lisbon", "Lisboa").replace("Faro,64000,yes,,South,\n", "")
    response = client.post(url, {"file": csv_upload(new_rows), "empty_bad_cells": "on"})
    assert response.status_code == 302
    run_worker()
    assert "Loaded 4 rows" in client.get(response["Location"]).content.decode()
    assert first_column(client.get(cities.get_absolute_url())) == ["Lisboa", "Porto", "Braga", "Evora"]


def test_a_range_on_the_sort_column_itself_both_ways(cities, people):
    client = client_for(people["owner"])
    query = {"population_min": 60000, "population_max": 300000}
    url = cities.get_absolute_url()
    assert first_column(client.get(url, {**query, "sort": "population"})) == ["Faro", "Braga", "Porto"]
    assert first_column(client.get(url, {**query, "sort": "-population"})) == ["Porto", "Braga", "Faro"]
    assert first_column(client.get(url, {"population_max": 60000, "sort": "-population"})) == ["Evora"]


def test_a_range_of_row_ids_on_the_table_its_export_and_the_api_but_not_the_charts(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    ids = {"id_min": 2, "id_max": 4}
    assert first_column(client.get(url, ids)) == ["Porto", "Braga", "Evora"]
    assert first_column(client.get(url, {**ids, "sort": "-id"})) == ["Evora", "Braga", "Porto"]
    assert first_column(client.get(url, {"id_min": 4, "sort": "-id"})) == ["Faro", "Evora"]
    bad = client.get(url, {"id_min": 4, "id_max": 2})
    assert bad.status_code == 400 and "to: Must not be below the lower bound." in bad.content.decode()
    export = client.get(reverse("analytics:dataset-export", args=[cities.slug]), ids)
    exported = csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))
    assert [row[1] for row in list(exported)[1:]] == ["Porto", "Braga", "Evora"]
    api = client.get(f"/api/datasets/{cities.slug}/rows", ids).json()
    assert [row["city"] for row in api["results"]] == ["Porto", "Braga", "Evora"]
    charts = client.get(reverse("analytics:dataset-view", args=[cities.slug])).content.decode()
    assert 'name="id_min"' not in charts


def test_columns_named_after_reserved_words_filter_and_sort(people):
    text = "When,Select,Id\n2026-01-01,1,a\n,2,b\n2026-03-01,3,c\n"
    dataset = dataset_create(file=upload(text), name="Reserved", owner=people["owner"])
    assert [column["name"] for column in dataset.columns] == ["when_column", "select_column", "id_column"]
    client = client_for(people["owner"])
    url = dataset.get_absolute_url()
    assert first_column(client.get(url, {"when_column_empty": "no", "sort": "-when_column"})) == [
        "2026-03-01 00:00", "2026-01-01 00:00",
    ]  # fmt: skip
    assert first_column(client.get(url, {"select_column_min": 2, "when_column_max": "2026-12-31"})) == [
        "2026-03-01 00:00",
    ]  # fmt: skip
    assert client.get(f"/datasets/{dataset.slug}/analytics/").status_code == 200


def test_uploads_left_over_a_day_are_deleted_at_the_next_upload(media, people):
    import os
    import time

    old = media / "uploads" / "forgotten"
    old.parent.mkdir(parents=True)
    old.write_text("a\n1\n")
    recent = media / "uploads" / "waiting"
    recent.write_text("a\n1\n")
    two_days_ago = time.time() - 2 * 86_400
    os.utime(old, (two_days_ago, two_days_ago))
    client_for(people["owner"]).post(reverse("analytics:dataset-new"), {"file": csv_upload(CSV)})
    left = {path.name for path in (media / "uploads").iterdir()}
    assert "forgotten" not in left and "waiting" in left and len(left) == 2  # the new one too


def test_a_file_over_the_limit_is_refused_on_both_upload_pages(media, cities, people, settings):
    settings.DATASET_MAX_BYTES = 20
    client = client_for(people["owner"])
    for url in (reverse("analytics:dataset-new"), reverse("analytics:dataset-replace", args=[cities.slug])):
        response = client.post(url, {"file": csv_upload(CSV)})
        assert response.status_code == 400 and "at most 0 MB are allowed" in response.content.decode(), url
    assert not (media / "uploads").exists()


def test_the_built_in_datasets_statistics_and_charts_follow_a_reseed(seeded_monsters):
    from monsters.services import monsters_seed

    client = Client()
    statistics = reverse("analytics:dataset-statistics", args=["monsters"])
    chart = reverse("analytics:dataset-figure", args=["monsters"])
    params = {"kind": "histogram", "x": "type", "color": ""}
    before = client.get(statistics).context["profile"].rows
    drawn = sum(sum(trace["y"]) for trace in client.get(chart, params).json()["figure"]["data"])
    assert drawn == before
    monsters_seed(count=7, seed=5)  # no reload of the dataset: its own data version changes
    assert client.get(statistics).context["profile"].rows == before + 7
    assert sum(sum(trace["y"]) for trace in client.get(chart, params).json()["figure"]["data"]) == before + 7


def walked(client, url: str, params: dict, link: str = "next") -> list[int]:
    """The ids of every page of the API's rows, following `link` ("next" or "previous") from the first."""
    ids, page = [], client.get(url, params).json()
    while True:
        found = [row["id"] for row in page["results"]]
        ids = ids + found if link == "next" else found + ids
        if not page[link]:
            return ids
        page = client.get(page[link]).json()


@pytest.mark.parametrize("sort", ["score", "-score"])
@pytest.mark.parametrize("filters", [{}, {"team": "b"}])
def test_a_column_with_empty_cells_pages_by_links_both_ways(people, sort, filters):
    """Empty cells come after the values ascending and before them descending, on every database,
    and next and previous links cross from one stretch to the other."""
    lines = [f"{'' if i % 4 == 0 else (i * 7) % 23},{'ab'[i % 2]}" for i in range(47)]
    scores = dataset_create(
        file=upload("Score,Team\n" + "\n".join(lines) + "\n"), name="S", owner=people["owner"]
    )
    rows = [
        (i + 1, None if i % 4 == 0 else (i * 7) % 23) for i in range(47) if not filters or "ab"[i % 2] == "b"
    ]
    values = sorted((row for row in rows if row[1] is not None), key=lambda row: (row[1], row[0]))
    empties = [row for row in rows if row[1] is None]
    expected = [pk for pk, _ in values + empties]
    if sort.startswith("-"):
        expected.reverse()
    client = client_for(people["owner"])
    url = f"/api/datasets/{scores.slug}/rows"
    assert walked(client, url, {"sort": sort, "per_page": 10, **filters}) == expected
    assert (
        walked(client, url, {"sort": sort, "per_page": 10, "page": "last", **filters}, "previous") == expected
    )
    third = client.get(url, {"sort": sort, "per_page": 10, "page": 3, **filters}).json()
    assert [row["id"] for row in third["results"]] == expected[20:30]


@pytest.mark.parametrize("sort", ["price", "-price", "id"])
def test_deep_jumps_start_from_the_page_anchors_and_land_on_the_right_rows(people, monkeypatch, sort):
    from analytics import pagination
    from bandersnatch.models import Snapshot

    prices = [(i * 37) % 101 for i in range(400)]
    text = "Price\n" + "".join(f"{price}\n" for price in prices)
    dataset = dataset_create(file=upload(text), name="Prices", owner=people["owner"])
    monkeypatch.setattr(pagination, "ANCHOR_EVERY", 7)
    monkeypatch.setattr(pagination, "ANCHORS_FROM_ROWS", 0)
    by_price = sorted(range(1, 401), key=lambda pk: (prices[pk - 1], pk) if sort != "id" else pk)
    expected = by_price[::-1] if sort.startswith("-") else by_price
    client = client_for(people["owner"])
    for page in (2, 7, 20, 40):
        rows = client.get(f"/api/datasets/{dataset.slug}/rows", {"sort": sort, "per_page": 10, "page": page})
        assert [row["id"] for row in rows.json()["results"]] == expected[(page - 1) * 10 : page * 10], page
    field = sort.lstrip("-")
    assert Snapshot.objects.filter(name=f"analytics:anchors:{dataset.pk}:{field}").exists()


@pytest.mark.parametrize("sort", ["score", "-score"])
def test_sorted_by_a_column_filtered_to_its_empty_cells_the_rows_go_by_id(people, sort):
    text = "Score,Name\n" + "".join(f"{'' if i % 3 else i},n{i}\n" for i in range(40))
    dataset = dataset_create(file=upload(text), name="Sparse", owner=people["owner"])
    client = client_for(people["owner"])
    url = f"/api/datasets/{dataset.slug}/rows"
    empties = [i + 1 for i in range(40) if i % 3]
    expected = empties[::-1] if sort.startswith("-") else empties
    assert walked(client, url, {"sort": sort, "score_empty": "yes", "per_page": 10}) == expected
    present = client.get(url, {"sort": sort, "score_empty": "no", "per_page": 10}).json()["results"]
    values = sorted(i for i in range(40) if not i % 3)
    assert [row["score"] for row in present] == (values[::-1] if sort.startswith("-") else values)[:10]


# Summary, filter chips, pager and the text filters' suggestions ------------------------


def summary(response) -> str:
    """The table's summary line as a reader sees it: no tags, single spaces."""
    line = re.search(r'<div class="table-summary">\s*<p>(.*?)</p>', response.content.decode(), re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", line).split())


def test_the_summary_says_which_rows_the_page_shows(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    assert summary(client.get(url)) == "Rows 1–5 of 5 matching rows"
    assert summary(client.get(url, {"per_page": 10, "region": "North"})) == "Rows 1–2 of 2 matching rows"
    small = dataset_create(
        file=upload("n\n" + "".join(f"{i}\n" for i in range(25))), name="N", owner=people["owner"]
    )
    assert summary(client.get(small.get_absolute_url(), {"per_page": 10, "page": 3})) == (
        "Rows 21–25 of 25 matching rows · page 3 of 3"
    )


def test_a_page_past_the_end_sends_to_the_last_page(people):
    dataset = dataset_create(
        file=upload("n\n" + "".join(f"{i}\n" for i in range(25))), name="N", owner=people["owner"]
    )
    client = client_for(people["owner"])
    url = dataset.get_absolute_url()
    response = client.get(url, {"sort": "-n", "per_page": 10, "n_max": "", "page": 999})
    assert response.status_code == 302 and response["Location"] == f"{url}?sort=-n&per_page=10&page=3"
    assert first_column(client.get(response["Location"])) == [str(n) for n in range(4, -1, -1)]


def test_errors_name_the_field_as_the_form_labels_it(cities, people):
    client = client_for(people["owner"])
    url = cities.get_absolute_url()
    for query, message in (
        ({"population_min": 5, "population_max": 1}, "Population to: Must not be below the lower bound."),
        ({"coastal": "maybe"}, "Coastal: Select a valid choice. maybe is not one of the available choices."),
        (
            {"city_contains": "x" * 101},
            "City contains: Ensure this value has at most 100 characters (it has 101).",
        ),
    ):
        response = client.get(url, query)
        assert response.status_code == 400 and message in response.content.decode(), query


def test_chips_show_the_filters_in_force_each_removable(cities, people):
    client = client_for(people["owner"])
    query = {"coastal": "yes", "population_min": "60000", "note_contains": "", "sort": "city"}
    response = client.get(cities.get_absolute_url(), query)
    chips = [(chip.label, chip.value, chip.remove_query) for chip in response.context["chips"]]
    assert chips == [
        ("Population from", "60000", "?coastal=yes&sort=city"),
        ("Coastal", "Yes", "?population_min=60000&sort=city"),
    ]
    assert response.context["cleared_query"] == "?sort=city"
    removed = client.get(cities.get_absolute_url() + chips[1][2])
    assert first_column(removed) == ["Braga", "Faro", "Lisbon", "Porto"]


def test_the_page_box_shows_only_when_there_are_pages_to_jump_to(cities, people):
    client = client_for(people["owner"])
    assert 'class="jump"' not in client.get(cities.get_absolute_url()).content.decode()
    many = dataset_create(
        file=upload("n\n" + "".join(f"{i}\n" for i in range(25))), name="N", owner=people["owner"]
    )
    assert 'class="jump"' in client.get(many.get_absolute_url(), {"per_page": 10}).content.decode()


def test_text_filters_ask_for_suggestions(cities, people):
    content = client_for(people["owner"]).get(cities.get_absolute_url()).content.decode()
    assert f'data-suggest-url="/datasets/{cities.slug}/suggestions"' in content
    assert re.search(r'<input type="text" name="city_contains"[^>]*data-suggest-from="3"', content)


def test_suggestions_are_the_values_of_the_column_containing_the_text(cities, people):
    client = client_for(people["owner"])
    url = reverse("analytics:dataset-suggestions", args=[cities.slug])
    assert client.get(url, {"city_contains": "RAG"}).json() == {"suggestions": ["Braga"]}
    assert client.get(url, {"note_contains": "wal"}).json() == {"suggestions": ["old walls"]}
    assert client.get(url, {"note_contains": "ol"}).json() == {"suggestions": []}  # under three characters


@pytest.mark.parametrize(
    "query, message",
    [
        ({}, "Give one text filter of this table: city_contains, founded_contains, note_contains."),
        (
            {"city_contains": "bra", "note_contains": "old"},
            "Give one text filter of this table: city_contains, founded_contains, note_contains.",
        ),
        (
            {"population_contains": "500"},
            "Give one text filter of this table: city_contains, founded_contains, note_contains.",
        ),
        ({"city_contains": ""}, "city_contains: Give the text to complete."),
        (
            {"city_contains": "x" * 101},
            "city_contains: Ensure this value has at most 100 characters (it has 101).",
        ),
    ],
)
def test_bad_suggestion_requests_are_a_400_that_says_why(cities, people, query, message):
    response = client_for(people["owner"]).get(
        reverse("analytics:dataset-suggestions", args=[cities.slug]), query
    )
    assert response.status_code == 400 and response.json() == {"message": message}


def test_suggestions_of_a_private_dataset_are_its_owners(cities, people):
    url = reverse("analytics:dataset-suggestions", args=[cities.slug])
    response = client_for(people["other"]).get(url, {"city_contains": "bra"})
    assert response.status_code == 404 and response.json() == {"message": "No such dataset."}
    assert client_for(people["staff"]).get(url, {"city_contains": "bra"}).status_code == 200
