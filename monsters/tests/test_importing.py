import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bandersnatch.models import AuditEntry
from monsters import importing
from monsters.columns import MAX_RESOURCE
from monsters.importing import MAX_REPORTED_ERRORS, ImportRejected, monsters_import_csv
from monsters.models import DataVersion, Monster
from monsters.services import EXPORT_COLUMNS, monsters_seed
from monsters.tests.factories import MonsterFactory

pytestmark = pytest.mark.django_db
TYPE_RULE = "use one of Demonic, Devilkin, Dragon, Elemental, Fey, Undead."
RARITY_RULE = "use one of Rank 0, Rank 1, Rank 2, Rank 3, Rank 4, Rank 5."
DIE_RULE = "the die is one of 2, 4, 6, 8, 10, 12, the bonus +1 to +5."
COLUMNS_RULE = "The columns are the export's: name,"
URL = reverse("monsters:import")
HEADER = "name,type,level,rarity,damage,health,energy,sanity,created_at"
GOOD_ROWS = (
    "Imp,Demonic,3,Rank 1,3d4+2,12.5,11.25,10.0,2026-11-24 12:00:00+00:00",
    "Gold Dragon,Dragon,18,Rank 5,18d12,220.75,219.5,221,2026-11-24T14:30:00.25+02:00",
    '"Ghoul, the ""hungry""",Undead,1,Rank 0,1d2,2.0,1.5,0,2026-01-01 08:00:00',
)


def csv_file(*lines: str, name: str = "monsters.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join(lines).encode() + b"\n", content_type="text/csv")


def snapshot() -> list[tuple]:
    return list(Monster.objects.order_by("pk").values_list(*EXPORT_COLUMNS))


def rejection(*lines: str, data: bytes | None = None) -> ImportRejected:
    """What the service says of a file it must refuse; it must also leave everything as it was."""
    MonsterFactory.create_batch(2)
    before, version = snapshot(), DataVersion.current()
    upload = SimpleUploadedFile("bad.csv", data) if data is not None else csv_file(*lines)
    with pytest.raises(ImportRejected) as caught:
        monsters_import_csv(file=upload, mode="replace")
    assert snapshot() == before
    assert DataVersion.current() == version
    assert not AuditEntry.objects.exists()
    return caught.value


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Monster._meta.db_table)
    return {name for name, info in constraints.items() if info["index"]}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


class TestGoodFiles:
    def test_a_good_file_appends(self):
        MonsterFactory.create_batch(2)
        imported = monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="append")
        ids = list(Monster.objects.order_by("pk").values_list("pk", flat=True))
        assert (imported.count, imported.first_id, imported.last_id) == (3, ids[2], ids[4])
        assert ids[2:] == [ids[2], ids[2] + 1, ids[2] + 2]  # the three new ones, one run
        assert Monster.objects.count() == 5
        imported = snapshot()[2:]
        assert imported == [
            ("Imp", "Demonic", 3, "Rank 1", "3d4+2", 12.5, 11.25, 10.0, utc(2026, 11, 24, 12)),
            ("Gold Dragon", "Dragon", 18, "Rank 5", "18d12", 220.75, 219.5, 221.0,
             utc(2026, 11, 24, 12, 30, 0, 250000)),
            ('Ghoul, the "hungry"', "Undead", 1, "Rank 0", "1d2", 2.0, 1.5, 0.0, utc(2026, 1, 1, 8)),
        ]  # fmt: skip
        for monster in Monster.objects.all():
            monster.full_clean()

    def test_replace_replaces_every_monster_and_restarts_ids(self):
        monsters_seed(count=50, seed=1)
        imported = monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="replace")
        assert (imported.count, imported.first_id, imported.last_id) == (3, 1, 3)
        assert list(Monster.objects.order_by("pk").values_list("pk", "name")) == [
            (1, "Imp"),
            (2, "Gold Dragon"),
            (3, 'Ghoul, the "hungry"'),
        ]

    def test_every_index_is_back_after_a_load_that_rebuilds_them(self):
        monsters_seed(count=20, seed=1)
        indexes = index_names()
        monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="replace")
        monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS * 5), mode="append")  # more rows than the table
        assert index_names() == indexes
        assert Monster.objects.count() == 18

    def test_an_import_bumps_the_data_version(self):
        before = DataVersion.current()
        monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="append")
        assert DataVersion.current() != before

    def test_created_at_may_be_left_out_or_empty_and_means_now(self):
        started = timezone.now()
        header = HEADER.removesuffix(",created_at")
        rows = [row.rpartition(",")[0] for row in GOOD_ROWS]
        monsters_import_csv(file=csv_file(header, *rows), mode="append")
        monsters_import_csv(file=csv_file(HEADER, rows[0] + ","), mode="append")
        times = Monster.objects.values_list("created_at", flat=True)
        assert len(times) == 4
        assert all(started <= moment <= timezone.now() for moment in times)

    def test_an_id_column_is_ignored_columns_may_come_in_any_order_and_spaces_around_values_go(self):
        lines = [
            "id,sanity,energy,health,damage,rarity,level,type,name",
            "987654321,3,2,1, 2d8+1 ,Rank 3, 2 , Fey ,Pixie",
        ]
        monsters_import_csv(file=csv_file(*lines), mode="append")
        monster = Monster.objects.get()
        assert monster.pk != 987654321
        fields = ("name", "type", "level", "damage", "health", "sanity")
        assert [getattr(monster, field) for field in fields] == ["Pixie", "Fey", 2, "2d8+1", 1.0, 3.0]

    def test_it_reads_files_as_the_dataset_upload_does_semicolons_decimal_commas_and_gzip(self):
        import gzip

        lines = ["name;type;level;rarity;damage;health;energy;sanity", "Imp;Fey;2;Rank 3;2d8+1;1,5;2;3,25"]
        data = gzip.compress(("\n".join(lines) + "\n").encode())
        monsters_import_csv(file=SimpleUploadedFile("from-a-spreadsheet.csv.gz", data), mode="append")
        monster = Monster.objects.get()
        assert (monster.name, monster.health, monster.energy, monster.sanity) == ("Imp", 1.5, 2.0, 3.25)

    def test_a_byte_order_mark_crlf_line_ends_and_blank_lines_are_fine(self):
        data = ("\ufeff" + "\r\n".join([HEADER, GOOD_ROWS[0], "", GOOD_ROWS[1], "", ""])).encode()
        monsters_import_csv(file=SimpleUploadedFile("excel.csv", data), mode="append")
        assert list(Monster.objects.values_list("name", flat=True)) == ["Imp", "Gold Dragon"]

    def test_export_then_import_gives_back_identical_data(self, client, django_user_model):
        monsters_seed(count=300, seed=5)
        MonsterFactory(name='Comma, "quote" and <b>markup</b>', level=4, rank=2, health=0.1 + 0.2)
        MonsterFactory(name="Ünïcødé 🐉 " + "x" * 52, level=20, rank=5, health=1e-300, energy=0.0)
        MonsterFactory(level=7, rank=1, sanity=MAX_RESOURCE, created_at=utc(1999, 12, 31, 23, 59, 59, 999999))
        # Tabs and carriage returns are no part of a name (the bounds), so not here.
        formula_like = [
            "=cmd|' /C calc'!A0",
            "+SUM(1)",
            "-2+3",
            "@SUM(1)",
            "'=x",
            "''-y",
        ]
        for name in [*formula_like, "'z"]:
            MonsterFactory(name=name)
        before = snapshot()
        client.force_login(django_user_model.objects.create_user("reader"))
        response = client.get(reverse("monsters:export"))
        assert response.status_code == 200
        exported = SimpleUploadedFile("monsters.csv", b"".join(response.streaming_content))

        assert monsters_import_csv(file=exported, mode="replace").count == len(before)
        assert snapshot() == before  # every column, floats and microseconds exactly

    def test_the_apostrophe_the_export_puts_before_a_formula_comes_off_and_no_other(self):
        names = ["'=SUM(1)", "''+SUM(1)", "'-2+3", "'@x", "'Twas", "=raw", "''", "Imp'=x"]
        rows = [f'"{name}",Fey,3,Rank 1,3d4,1,1,1,' for name in names]
        monsters_import_csv(file=csv_file(HEADER, *rows), mode="append")
        assert list(Monster.objects.order_by("pk").values_list("name", flat=True)) == [
            "=SUM(1)", "'+SUM(1)", "-2+3", "@x", "'Twas", "=raw", "''", "Imp'=x",
        ]  # fmt: skip


class TestBadFiles:
    def test_bad_cells_are_reported_by_row_and_column_and_nothing_is_written(self):
        rejected = rejection(
            HEADER,
            GOOD_ROWS[0],
            ",Fey,3,Rank 1,3d4,1,1,1,",
            f"{'X' * 65},Fey,3,Rank 1,3d4,1,1,1,",
            "Goblin,Gremlin,3,Rank 1,3d4,1,1,1,",
            "Imp,Fey,0,Rank 1,0d4,1,1,1,",
            "Imp,Fey,abc,Rank 1,3d4,1,1,1,",
            "Imp,Fey,2.5,Rank 1,3d4,1,1,1,",
            "Imp,Fey,3,Rank 6,3d4,1,1,1,",
            "Imp,Fey,3,Rank 1,3d5,1,1,1,",
            "Imp,Fey,3,Rank 1,4d4,1,1,1,",
            "Imp,Fey,3,Rank 1,3d4+6,1,1,1,",
            "Imp,Fey,3,Rank 1,three,1,1,1,",
            "Imp,Fey,3,Rank 1,3d4,-1,inf,nan,",
            "Imp,Fey,3,Rank 1,3d4,,1,1,",
            "Imp,Fey,3,Rank 1,3d4,1,1,1,yesterday",
            "Imp,Fey,3,Rank 1,03d4,1,1,1,",
            "Imp,Fey,3,Rank 1,3d4+0,1,1",
        )
        assert rejected.message == "19 problems in the file: nothing was imported."
        assert rejected.total == 19
        assert rejected.errors == [
            (3, "name", "Required."),
            (4, "name", "Longer than 64 characters."),
            (5, "type", f'Unknown type "Gremlin": {TYPE_RULE}'),
            (6, "level", "Must be a whole number from 1 to 20."),
            (7, "level", 'Not a number: "abc".'),
            (8, "level", "Must be a whole number from 1 to 20."),
            (9, "rarity", f'Unknown rarity "Rank 6": {RARITY_RULE}'),
            (10, "damage", f'Unknown die or bonus in "3d5": {DIE_RULE}'),
            (11, "damage", 'The number of dice in "4d4" must equal the level.'),
            (12, "damage", f'Unknown die or bonus in "3d4+6": {DIE_RULE}'),
            (13, "damage", 'Not dice notation: "three" (expected e.g. 8d6 or 8d6+2).'),
            (14, "health", "Must be a number from 0 to 1,000,000."),
            (14, "energy", "Must be a number from 0 to 1,000,000."),
            (14, "sanity", 'Not a number: "nan".'),
            (15, "health", "Required."),
            (16, "created_at", 'Not a date and time: "yesterday" (expected e.g. 2026-11-24 12:00:00+00:00).'),
            (17, "damage", 'The number of dice in "03d4" must equal the level.'),
            (18, "damage", f'Unknown die or bonus in "3d4+0": {DIE_RULE}'),
            (18, "sanity", "Required."),  # the row stops short
        ]  # fmt: skip

    def test_rows_keep_their_spreadsheet_numbers_across_blank_lines_and_line_breaks(self):
        rejected = rejection(
            HEADER, '"Two\nlines",Fey,3,Rank 1,3d4,1,1,1,', "", "Imp,Elf,3,Rank 1,3d4,1,1,1,"
        )
        assert rejected.errors == [
            (2, "name", "Holds a control character (a tab or a line break, say)."),
            (4, "type", f'Unknown type "Elf": {TYPE_RULE}'),
        ]

    def test_long_values_are_cut_short_in_messages(self):
        rejected = rejection(HEADER, f"Imp,{'Gremlin' * 10},3,Rank 1,3d4,1,1,1,")
        assert rejected.errors[0][2].startswith(f'Unknown type "{("Gremlin" * 10)[:39]}…": ')

    def test_more_than_a_hundred_bad_cells_report_the_first_hundred_and_the_total(self):
        rows = [f"Imp {n},Elf,3,Rank 1,3d4,-{n + 1},1,1," for n in range(150)]
        rejected = rejection(HEADER, *rows)
        assert rejected.total == 300
        assert rejected.message == "300 problems in the file: nothing was imported."
        assert len(rejected.errors) == MAX_REPORTED_ERRORS == 100
        assert [(row, column) for row, column, _ in rejected.errors[:3]] == [
            (2, "type"),
            (2, "health"),
            (3, "type"),
        ]
        assert rejected.errors[-1][:2] == (51, "health")

    @pytest.mark.parametrize(
        "data, message",
        [
            (b"", "The file is empty."),
            (b"  \r\n\n", "The file is empty."),
            (bytes(range(256)) * 8, "This is not a CSV file: it holds binary data."),
            (f"{HEADER}\nCafé,Fey\n".encode("latin-1"), "The file is not UTF-8 text (byte 66 is not"),
            (b"\x89PNG\r\n\x1a\n\xff\xfe", "The file is not UTF-8 text (byte 1 is not UTF-8)."),
            (HEADER.replace(",sanity", "").encode(), f"Missing column: sanity. {COLUMNS_RULE}"),
            (HEADER.encode() + b",colour", f"Unknown column: colour. {COLUMNS_RULE}"),
            (b"name,kind,level", "Unknown column: kind. Missing columns: type, rarity, damage, health"),
            (HEADER.encode() + b",", "Unknown column: (no name, column 10)."),
            (HEADER.encode() + b",name", "Repeated column: name."),
            (HEADER.replace(",", "|").encode(), 'The cells must be separated by commas; this file seems'),
            (HEADER.encode() + b"\n\n", "The file has a header but no monsters."),
            (f"{HEADER}\n{GOOD_ROWS[0]}\n{GOOD_ROWS[1]},x\n".encode(), "Row 3 has 10 cells, the header 9."),
            (f'{HEADER}\n{GOOD_ROWS[0]}\n"Imp,Fey\n'.encode(), "A quote is opened and never closed."),
        ],
        ids=[
            "empty", "blank", "binary", "latin-1", "png", "missing", "unknown", "both", "unnamed",
            "repeated", "pipes", "header-only", "too-many-cells", "open-quote",
        ],
    )  # fmt: skip
    def test_a_file_that_is_no_csv_of_monsters_gets_one_clear_message(self, data, message):
        rejected = rejection(data=data)
        assert rejected.message.startswith(message)
        assert rejected.errors == []

    def test_an_unknown_mode_is_a_programming_error(self):
        with pytest.raises(ValueError, match="mode must be one of append, replace"):
            monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="merge")

    def test_a_row_the_database_refuses_after_all_is_a_rejection_not_a_crash(self, monkeypatch, caplog):
        checked = importing._checked_monsters

        def with_a_gap(layout, cells):
            monsters = checked(layout, cells)
            monsters.loc[monsters.index[-1], "damage"] = "2d4"  # level 1: the constraint says no
            return monsters

        monkeypatch.setattr(importing, "_checked_monsters", with_a_gap)
        indexes = index_names()
        rejected = rejection(HEADER, *GOOD_ROWS)
        assert index_names() == indexes
        assert rejected.message.startswith("The database refused the file:")
        assert "monster_damage_dice" in rejected.message
        assert "The database refused an import the checks had passed" in caplog.text


class TestAudit:
    def test_an_import_is_audited_with_its_actor(self, django_user_model):
        keeper = django_user_model.objects.create_user("keeper", is_staff=True)
        monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS, name="zoo.csv"), mode="replace", actor=keeper)
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.actor, entry.summary) == (
            AuditEntry.Action.IMPORT, keeper, "Replaced every monster with 3 monsters from zoo.csv",
        )  # fmt: skip
        assert entry.details == {"rows": 3, "mode": "replace", "file": "zoo.csv"}

    def test_appending_reads_as_an_import(self):
        monsters_import_csv(file=csv_file(HEADER, *GOOD_ROWS), mode="append")
        entry = AuditEntry.objects.get()
        assert (entry.actor, entry.summary) == (None, "Imported 3 monsters from monsters.csv")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("reader", password="pw-for-tests-1")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("keeper", password="pw-for-tests-1", is_staff=True)


class TestImportPage:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        for response in (client.get(URL), client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS)})):
            assert response.status_code == 302
            assert response["Location"] == f"{reverse('login')}?next={URL}"
        assert not Monster.objects.exists()

    def test_signed_in_users_who_are_not_staff_get_403(self, client, user):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS)}).status_code == 403
        assert not Monster.objects.exists()

    def test_staff_see_the_form_with_a_drop_zone_and_the_format(self, client, staff):
        client.force_login(staff)
        response = client.get(URL)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'enctype="multipart/form-data"' in page
        assert 'type="file" name="file"' in page
        assert response.context["form"]["mode"].value() == "append"
        assert "data-drop-zone" in page and "js/import.js" in page
        assert "/data/export.csv" in page and "50.0\xa0MB" in page

    def test_the_operations_page_links_to_it(self, client, staff):
        client.force_login(staff)
        assert f'href="{URL}"' in client.get(reverse("ops")).content.decode()

    def test_a_good_file_is_imported_and_the_table_shows_exactly_its_monsters(self, client, staff):
        last = MonsterFactory.create_batch(4)[-1].pk  # ids go on from here (PostgreSQL never reuses one)
        client.force_login(staff)
        response = client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS), "mode": "append"})
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('monsters:data')}?id_min={last + 1}&id_max={last + 3}"
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["Imported 3 monsters, shown below."]
        assert Monster.objects.count() == 7
        assert AuditEntry.objects.get().actor == staff
        table = client.get(response["Location"])
        assert [monster.name for monster in table.context["page"].rows] == [
            "Imp", "Gold Dragon", 'Ghoul, the "hungry"',
        ]  # fmt: skip
        assert "3 matching monsters" in table.content.decode()

    def test_replace_says_so_and_shows_every_monster_it_brought(self, client, staff):
        MonsterFactory.create_batch(4)
        client.force_login(staff)
        response = client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS), "mode": "replace"}, follow=True)
        assert response.redirect_chain[0][0] == f"{reverse('monsters:data')}?id_min=1&id_max=3"
        assert "Replaced every monster with 3 imported ones." in response.content.decode()
        assert [monster.pk for monster in response.context["page"].rows] == [1, 2, 3]
        assert Monster.objects.count() == 3

    def test_the_page_says_which_files_become_a_job(self, client, staff):
        client.force_login(staff)
        assert "A file over 1.5\xa0MB (about 20,000 monsters) is imported" in client.get(URL).content.decode()

    def test_without_a_mode_it_appends(self, client, staff):
        MonsterFactory.create_batch(4)
        client.force_login(staff)
        assert client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS)}).status_code == 302
        assert Monster.objects.count() == 7

    def test_bad_cells_are_listed_in_a_table_with_the_total(self, client, staff):
        MonsterFactory.create_batch(2)
        before = snapshot()
        client.force_login(staff)
        rows = [f"Imp {n},Elf,3,Rank 1,3d4,1,1,1," for n in range(120)]
        response = client.post(URL, {"file": csv_file(HEADER, *rows), "mode": "replace"})
        assert response.status_code == 400
        page = response.content.decode()
        assert "120 problems in the file: nothing was imported." in page
        assert "The first 100 of 120 are listed." in page
        assert "<th>Column</th>" in page
        assert page.count("<td>type</td>") == 100
        assert "Unknown type &quot;Elf&quot;" in page
        assert snapshot() == before
        assert not AuditEntry.objects.exists()

    def test_a_wrong_format_is_a_form_error(self, client, staff):
        client.force_login(staff)
        response = client.post(URL, {"file": SimpleUploadedFile("data.xlsx", bytes(range(256)))})
        assert response.status_code == 400
        assert response.context["form"].errors["file"][0].startswith("This is not a CSV file")
        assert "This is not a CSV file" in response.content.decode()
        assert response.context["form"]["mode"].value() == "append"  # shown as chosen again
        assert not Monster.objects.exists()

    @pytest.mark.parametrize(
        "data, error",
        [
            ({}, "This field is required."),
            ({"file": SimpleUploadedFile("empty.csv", b"")}, "The submitted file is empty."),
            ({"file": csv_file(HEADER, *GOOD_ROWS), "mode": "merge"}, "Select a valid choice."),
        ],
    )
    def test_form_errors_are_a_400(self, client, staff, data, error):
        client.force_login(staff)
        response = client.post(URL, data)
        assert response.status_code == 400
        assert error in str(response.context["form"].errors)
        assert not Monster.objects.exists()

    def test_a_file_over_the_limit_is_refused_naming_the_limit(self, client, staff, settings):
        settings.IMPORT_MAX_BYTES = 100
        client.force_login(staff)
        upload = csv_file(HEADER, *GOOD_ROWS)
        response = client.post(URL, {"file": upload})
        assert response.status_code == 400
        assert response.context["form"].errors["file"] == [
            f"The file is {upload.size}\xa0bytes, more than the limit of 100\xa0bytes."
        ]
        assert not Monster.objects.exists()

    def test_files_above_djangos_in_memory_limits_still_import(self, client, staff, settings):
        # Larger uploads stream to a temporary file; the body limit is for form fields only.
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        client.force_login(staff)
        rows = [row for _ in range(20) for row in GOOD_ROWS]
        assert client.post(URL, {"file": csv_file(HEADER, *rows), "mode": "append"}).status_code == 302
        assert Monster.objects.count() == 60

    def test_a_post_without_the_csrf_token_is_refused(self, staff):
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff)
        response = client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS)})
        assert response.status_code == 403
        assert not Monster.objects.exists()
        assert not AuditEntry.objects.exists()


class TestProgress:
    def test_it_reports_the_rows_read_then_the_monsters_written_from_zero(self, monkeypatch):
        monkeypatch.setattr(importing, "WRITE_CHUNK_ROWS", 2)
        upload = csv_file(HEADER, *GOOD_ROWS, GOOD_ROWS[0], GOOD_ROWS[1])
        read, written = [], []
        monsters_import_csv(
            file=upload, mode="append", on_read=lambda *report: read.append(report),
            on_written=lambda *report: written.append(report),
        )  # fmt: skip
        assert read == [(5, upload.size)]  # one chunk of the file, read whole
        assert written == [(0, 5), (2, 5), (4, 5), (5, 5)]
        assert Monster.objects.count() == 5

    def test_a_refused_file_writes_nothing_and_reports_no_writing(self):
        written = []
        with pytest.raises(ImportRejected):
            monsters_import_csv(
                file=csv_file(HEADER, "Imp,Elf,3,Rank 1,3d4,1,1,1,"), mode="append",
                on_written=lambda *report: written.append(report),
            )  # fmt: skip
        assert written == []


def run_worker() -> None:
    from bandersnatch.tests.test_jobs import run_worker as run

    run()


@pytest.fixture
def media(settings, tmp_path):
    """Uploads kept for a job go here; the job deletes them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class TestImportJob:
    """A file above IMPORT_INLINE_MAX_BYTES is imported by a job, whose page shows how far it is."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch):
        monkeypatch.setattr("monsters.views.IMPORT_INLINE_MAX_BYTES", 100)

    def test_a_large_file_is_queued_then_imported_and_the_job_links_to_its_monsters(
        self, client, staff, media
    ):
        from bandersnatch.jobs import job_state
        from bandersnatch.models import Job

        last = MonsterFactory.create_batch(4)[-1].pk
        client.force_login(staff)
        response = client.post(URL, {"file": csv_file(HEADER, *GOOD_ROWS, name="zoo.csv"), "mode": "append"})
        job = Job.objects.get()
        assert response["Location"] == job.get_absolute_url()
        assert (job.kind, job.created_by) == (Job.Kind.IMPORT, staff)
        assert job.summary.startswith("Append the monsters of zoo.csv (")
        assert Monster.objects.count() == 4  # nothing yet: the worker imports it
        assert len(list(media.rglob("*"))) == 2  # the upload, kept for the job, in its folder
        run_worker()
        state = job_state(job)
        assert state.status == "succeeded"
        assert state.result == {
            "message": "Imported 3 monsters from zoo.csv.", "link_text": "See the 3 imported monsters",
            "url": f"{reverse('monsters:data')}?id_min={last + 1}&id_max={last + 3}",
        }  # fmt: skip
        page = client.get(job.get_absolute_url()).content.decode()
        link = f'href="/data/?id_min={last + 1}&amp;id_max={last + 3}">See the 3 imported monsters</a>'
        assert link in page
        assert AuditEntry.objects.get().summary == "Imported 3 monsters from zoo.csv"
        assert [p for p in media.rglob("*") if p.is_file()] == []  # the upload is gone
        rows = client.get(state.result["url"]).context["page"].rows
        assert [monster.name for monster in rows] == ["Imp", "Gold Dragon", 'Ghoul, the "hungry"']

    def test_a_large_file_with_bad_cells_fails_naming_them_and_changes_nothing(self, client, staff, media):
        from bandersnatch.jobs import job_state
        from bandersnatch.models import Job

        MonsterFactory.create_batch(2)
        before = snapshot()
        client.force_login(staff)
        rows = [f"Imp {n},Elf,3,Rank 1,3d4,1,1,1," for n in range(12)]
        client.post(URL, {"file": csv_file(HEADER, *rows), "mode": "replace"})
        run_worker()
        state = job_state(Job.objects.get())
        assert state.status == "failed"
        assert state.error.startswith(
            "12 problems in the file: nothing was imported. "
            f'row 2, type: Unknown type "Elf": {TYPE_RULE}; row 3, type:'
        )
        assert state.error.endswith("and 2 more")
        assert snapshot() == before and not AuditEntry.objects.exists()
        assert [p for p in media.rglob("*") if p.is_file()] == []
