"""Datasets from CSV files: loaded into typed tables of their own, all or nothing."""

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest
import sklearn
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from analytics.csvfiles import CsvRejected
from analytics.datasets import dataset_create, dataset_delete, dataset_replace
from analytics.models import Dataset
from analytics.tables import row_model
from monsters.columns import MONSTER_COLUMNS

pytestmark = pytest.mark.django_db
SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"
ODD = (
    "\ufeffName;Größe (cm);select;;Name;When;Kind;Alive\n"
    '"Smith; John";180,5;1;x;dup;2026-01-02T10:00:00+01:00;a;yes\n'
    "Doe;;2;y;dup;;b;no\n"
    "Roe;170;3;z;dup;2026-01-04;a;\n"
)


def upload(text: str, name: str = "people.csv", *, compressed: bool = False) -> io.BytesIO:
    data = text.encode()
    file = io.BytesIO(gzip.compress(data) if compressed else data)
    file.name = name
    return file


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def rows(dataset: Dataset) -> list[dict]:
    return list(row_model(dataset.table, dataset.columns).objects.values())


def test_odd_headers_a_bom_semicolons_and_empty_cells_load_into_a_typed_table():
    dataset = dataset_create(file=upload(ODD), name="People")
    assert dataset.slug == "people" and dataset.row_count == 3 and dataset.source_name == "people.csv"
    described = [(c["name"], c["label"], c["kind"], c["nullable"]) for c in dataset.columns]
    assert described == [
        ("name", "Name", "text", False), ("grosse_cm", "Größe (cm)", "number", True),
        ("select_column", "select", "integer", False), ("column_4", "", "text", False),
        ("name_2", "Name", "category", False), ("when_column", "When", "datetime", True),
        ("kind", "Kind", "category", False), ("alive", "Alive", "boolean", True),
    ]  # fmt: skip
    assert dataset.columns[6]["choices"] == ["a", "b"]
    first, second, _ = rows(dataset)
    assert first["name"] == "Smith; John" and first["grosse_cm"] == 180.5 and first["select_column"] == 1
    assert first["when_column"] == dt.datetime(2026, 1, 2, 9, tzinfo=dt.UTC) and first["alive"] is True
    assert second["grosse_cm"] is None and second["when_column"] is None and second["alive"] is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL column types and indexes")
def test_the_table_has_typed_columns_not_null_where_full_and_indexes():
    dataset = dataset_create(file=upload(ODD), name="People")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [dataset.table],
        )
        columns = cursor.fetchall()
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [dataset.table])
        indexes = {name for (name,) in cursor.fetchall()}
    assert columns[:4] == [
        ("id", "bigint", "NO"), ("name", "text", "NO"), ("grosse_cm", "double precision", "YES"),
        ("select_column", "bigint", "NO"),
    ]  # fmt: skip
    assert ("when_column", "timestamp with time zone", "YES") in columns and (
        "alive",
        "boolean",
        "YES",
    ) in columns
    assert {f"{dataset.table}_{i}_sort" for i in range(8)} <= indexes
    assert {f"{dataset.table}_0_trgm", f"{dataset.table}_3_trgm"} <= indexes


def test_a_bad_cell_on_the_last_row_leaves_nothing_behind():
    text = "n,x\n" + "".join(f"{i},{i / 4}\n" for i in range(60_000)) + "60000,oops\n"
    before = tables()
    with pytest.raises(CsvRejected) as caught:
        dataset_create(file=upload(text), name="Numbers")
    assert caught.value.problems == [(60_002, "x", "oops", "Not a number.")]
    assert not Dataset.objects.filter(is_builtin=False).exists()
    assert tables() == before


def test_bad_cells_can_be_made_empty_instead():
    text = "n,x\n" + "".join(f"{i},{i / 4}\n" for i in range(20_000)) + "20000,oops\n"
    dataset = dataset_create(file=upload(text), name="Numbers", empty_bad_cells=True)
    assert dataset.row_count == 20_001
    last = row_model(dataset.table, dataset.columns).objects.order_by("-n").first()
    assert last.n == 20_000 and last.x is None
    assert [c["nullable"] for c in dataset.columns] == [False, True]


def test_a_gzip_and_choices_from_the_preview():
    choices = [{"kind": "text"}, {"keep": False}, {"label": "Score", "kind": "number"}]
    dataset = dataset_create(
        file=upload("a,b,c\n1,x,2\n2,y,3\n", compressed=True, name="t.csv.gz"), name="T", choices=choices
    )
    assert [(c["name"], c["label"], c["kind"]) for c in dataset.columns] == [
        ("a", "a", "text"), ("score", "Score", "number"),
    ]  # fmt: skip
    assert rows(dataset) == [{"id": 1, "a": "1", "score": 2.0}, {"id": 2, "a": "2", "score": 3.0}]


def test_two_hundred_columns_load_and_more_are_refused_before_any_work(settings):
    header = ",".join(f"c{i}" for i in range(200))
    dataset = dataset_create(file=upload(header + "\n" + ",".join(["1"] * 200) + "\n"), name="Wide")
    assert len(dataset.columns) == 200 and rows(dataset)[0]["c199"] == 1
    wide = ",".join(f"c{i}" for i in range(201))
    with pytest.raises(CsvRejected, match="201 columns; at most 200"):
        dataset_create(file=upload(wide + "\n" + ",".join(["1"] * 201) + "\n"), name="Wider")
    settings.DATASET_MAX_BYTES = 10
    with pytest.raises(CsvRejected, match="at most 0 MB"):
        dataset_create(file=upload("a,b\n1,2\n3,4\n"), name="Big")
    assert Dataset.objects.filter(is_builtin=False).count() == 1


def test_scikit_learns_own_csv_files():
    with open(SKLEARN_DATA / "iris.csv", "rb") as file:
        iris = dataset_create(file=file, name="Iris")
    assert iris.row_count == 150 and [c["kind"] for c in iris.columns] == ["number"] * 4 + ["integer"]
    with open(SKLEARN_DATA / "breast_cancer.csv", "rb") as file, pytest.raises(CsvRejected) as caught:
        dataset_create(file=file, name="Cancer")  # its first line is a count, not a header
    assert caught.value.message == "Row 2 has more cells than the header's 4."


def test_slugs_are_unique_and_never_a_page_of_their_own():
    assert dataset_create(file=upload("a\n1\n"), name="New").slug == "new-2"
    assert dataset_create(file=upload("a\n1\n"), name="Monsters").slug == "monsters-2"
    assert dataset_create(file=upload("a\n1\n"), name="Sales 2026").slug == "sales-2026"
    assert dataset_create(file=upload("a\n1\n"), name="Sales 2026").slug == "sales-2026-2"


def test_the_monsters_are_the_built_in_dataset():
    monsters = Dataset.objects.get(slug="monsters")
    assert monsters.is_builtin and monsters.is_public and monsters.owner is None
    assert monsters.table == "monsters_monster"
    assert monsters.column_list == MONSTER_COLUMNS
    assert Dataset.objects.first() == monsters  # first in every list


def test_who_sees_which_dataset():
    owner, other = User.objects.create_user("owner"), User.objects.create_user("other")
    staff = User.objects.create_user("staff", is_staff=True)
    private = dataset_create(file=upload("a\n1\n"), name="Private", owner=owner)
    public = dataset_create(file=upload("a\n1\n"), name="Public", owner=owner, is_public=True)
    from django.contrib.auth.models import AnonymousUser

    def seen(user):
        return set(Dataset.objects.visible_to(user).exclude(is_builtin=True).values_list("slug", flat=True))

    assert seen(AnonymousUser()) == seen(other) == {public.slug}
    assert seen(owner) == seen(staff) == {public.slug, private.slug}
    assert private.editable_by(owner) and private.editable_by(staff) and not private.editable_by(other)
    assert not Dataset.objects.get(slug="monsters").editable_by(staff)


def test_the_command_prints_the_slug_last(tmp_path, capsys):
    User.objects.create_user("ada")
    path = tmp_path / "sales.csv"
    path.write_text("Region,Amount\nNorth,10.5\nSouth,7\n")
    call_command("dataset_import", str(path), "--name", "Sales", "--public", "--owner", "ada")
    assert capsys.readouterr().out.splitlines()[-1] == "sales"
    dataset = Dataset.objects.get(slug="sales")
    assert dataset.is_public and dataset.owner.username == "ada" and dataset.row_count == 2


@pytest.mark.parametrize(
    "text, options, message",
    [
        ("a,b\n1,2\n3,x,4\n", [], "Row 3 has 3 cells, the header 2."),
        ("a\n1\n", ["--owner", "nobody"], "No user named 'nobody'."),
        # The kind comes from the first 10,000 rows; a cell after them can still be wrong.
        (
            "n\n" + "1\n" * 10_005 + "x\n",
            [],
            "1 cell did not fit its column: nothing was loaded. row 10007, n: 'x'",
        ),
    ],
)
def test_the_command_refuses_in_one_line(tmp_path, text, options, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CommandError) as caught:
        call_command("dataset_import", str(path), "--name", "Bad", *options)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert not Dataset.objects.filter(is_builtin=False).exists()


def test_the_command_with_no_file():
    with pytest.raises(CommandError, match="No file at /nowhere.csv"):
        call_command("dataset_import", "/nowhere.csv", "--name", "X")


def test_deleting_a_dataset_drops_its_table_and_the_monsters_stay():
    dataset = dataset_create(file=upload("a\n1\n"), name="Gone")
    assert dataset.table in tables()
    dataset_delete(dataset)
    assert dataset.table not in tables() and not Dataset.objects.filter(slug="gone").exists()
    with pytest.raises(ValueError, match="built in"):
        dataset_delete(Dataset.objects.get(slug="monsters"))
    assert "monsters_monster" in tables()


def test_staff_delete_datasets_in_the_admin_with_their_tables(admin_client):
    dataset = dataset_create(file=upload("a\n1\n"), name="Old")
    url = f"/admin/analytics/dataset/{dataset.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert dataset.table not in tables()
    monsters = Dataset.objects.get(slug="monsters")
    assert admin_client.get(f"/admin/analytics/dataset/{monsters.pk}/delete/").status_code == 403


def test_replacing_the_rows_with_a_file_of_the_same_columns():
    dataset = dataset_create(file=upload("City,Population\nLisbon,545000\nPorto,232000\n"), name="Cities")
    old_table = dataset.table
    # Any order; a header may be the column's name or its label.
    dataset = dataset_replace(dataset, file=upload("population,City\n193000,Braga\n64000,\n53000,Evora\n"))
    assert dataset.row_count == 3 and dataset.table != old_table and old_table not in tables()
    assert [(row["city"], row["population"]) for row in rows(dataset)] == [
        ("Braga", 193000), (None, 64000), ("Evora", 53000),
    ]  # fmt: skip
    assert [column["nullable"] for column in dataset.columns] == [True, False]  # as the new rows have them


@pytest.mark.parametrize(
    "text, message",
    [
        ("City\nLisbon\n", "The file must have the dataset's columns: missing Population."),
        ("City,Population,Mayor\nLisbon,1,X\n", "The file must have the dataset's columns: new Mayor."),
        ("City,Population\nLisbon,many\n", "1 cell did not fit its column: nothing was loaded."),
    ],
)
def test_a_replacement_that_does_not_fit_changes_nothing(text, message):
    dataset = dataset_create(file=upload("City,Population\nLisbon,545000\nPorto,232000\n"), name="Cities")
    before = tables()
    with pytest.raises(CsvRejected) as caught:
        dataset_replace(dataset, file=upload(text))
    assert caught.value.message == message
    dataset.refresh_from_db()
    assert dataset.row_count == 2 and len(rows(dataset)) == 2 and tables() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_loaded_or_replaced_table_is_vacuumed_after_its_commit():
    """Its pages all-visible at once: index-only scans (counts, deep pages, anchors) skip the rows."""

    def vacuumed(table: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s", [table]
            )
            row = cursor.fetchone()
        return bool(row and row[0])

    dataset = dataset_create(file=upload("a,b\n1,x\n2,y\n"), name="Vacuumed")
    assert vacuumed(dataset.table)
    replaced = dataset_replace(dataset, file=upload("a,b\n3,z\n"))
    assert replaced.table != dataset.table and vacuumed(replaced.table)
    dataset_delete(replaced)
