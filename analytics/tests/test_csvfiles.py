"""Reading any CSV file: layout, kinds, cells (no database)."""

import gzip
import io

import pytest

from analytics.csvfiles import (
    MAX_REPORTED_PROBLEMS,
    CsvRejected,
    csv_chunks,
    csv_preview,
)
from bandersnatch.columns import Column, column_from_dict, column_to_dict, safe_identifiers


def as_file(text: str, *, bom: bool = False, compressed: bool = False) -> io.BytesIO:
    data = ("\ufeff" if bom else "").encode() + text.encode()
    return io.BytesIO(gzip.compress(data) if compressed else data)


def rows_of(file, **options) -> list[dict]:
    preview = csv_preview(file)
    frames = list(csv_chunks(file, preview.layout, list(preview.columns), **options))
    return [row for frame in frames for row in frame.astype(object).to_dict("records")]


def kinds(preview) -> list[tuple[str, str, bool]]:
    return [(column.name, column.kind, column.nullable) for column in preview.columns]


def test_a_truncated_repeat_never_gets_a_double_underscore():
    names = safe_identifiers(["a" * 45 + "_b_c", "a" * 45 + "_b_c"])
    assert names[1] == "a" * 45 + "_2" and "__" not in "".join(names) and not names[1].endswith("_")


def test_safe_identifiers_from_odd_headers():
    headers = ["Größe (cm)", "", "select", "id", "a b", "a-b", "2nd", "x" * 80, "x" * 80, "数字", "Name"]
    assert safe_identifiers(headers) == [
        "grosse_cm", "column_2", "select_column", "id_column", "a_b", "a_b_2", "c_2nd",
        "x" * 48, "x" * 46 + "_2", "column_10", "name",
    ]  # fmt: skip


def test_a_column_description_survives_json():
    for column in (
        Column("when", "When", "datetime", nullable=True),
        Column("kind", "Kind", "category", choices=("a", "b")),
        Column("size", "Size", "number", minimum=0.0, maximum=10.0),
        Column("note", "Note", "text", max_length=100),
    ):
        assert column_from_dict(column_to_dict(column)) == column


def test_kinds_are_inferred_from_the_cells():
    preview = csv_preview(
        as_file(
            "Count,Price,Sold,Colour,Comment,When,Blank\n"
            "1,2.5,yes,red,first one,2026-01-01,\n"
            "2,,no,blue,second one,2026-01-02 10:00:00,\n"
            "3,4e2,yes,red,third one,2026-01-03T10:00:00+02:00,\n"
            "-4,5,no,red,fourth,2026-01-04,\n"
        )
    )
    assert kinds(preview) == [
        ("count", "integer", False), ("price", "number", True), ("sold", "boolean", False),
        ("colour", "category", False), ("comment", "text", False), ("when_column", "datetime", False),
        ("blank", "text", True),
    ]  # fmt: skip
    assert [column.label for column in preview.columns][:2] == ["Count", "Price"]
    assert preview.rows[0] == ["1", "2.5", "yes", "red", "first one", "2026-01-01", ""]


def test_cells_are_typed_and_empty_cells_are_missing():
    rows = rows_of(as_file("n,x,b,t\n1,2.5,true,2026-01-01T10:00:00+02:00\n,,,\n"))
    first, second = rows
    assert first["n"] == 1 and first["x"] == 2.5 and first["b"] is True
    assert first["t"].isoformat() == "2026-01-01T08:00:00+00:00"
    assert all(value is None or value != value or str(value) in ("<NA>", "NaT") for value in second.values())


def test_semicolons_a_bom_quotes_and_decimal_commas():
    text = 'Name;Weight;Note\n"Smith; John";1,5;"said ""hi"""\nDoe;2;\n'
    preview = csv_preview(as_file(text, bom=True))
    assert preview.layout.delimiter == ";"
    assert preview.layout.headers == ("Name", "Weight", "Note")  # no BOM in the first header
    assert kinds(preview)[1] == ("weight", "number", False)
    rows = rows_of(as_file(text, bom=True))
    assert rows[0]["name"] == "Smith; John" and rows[0]["weight"] == 1.5 and rows[0]["note"] == 'said "hi"'


def test_tabs_and_gzip():
    rows = rows_of(as_file("a\tb\n1\tx\n2\ty\n", compressed=True))
    assert [(row["a"], row["b"]) for row in rows] == [(1, "x"), (2, "y")]


def test_a_bad_cell_on_the_last_row_is_named():
    lines = ["n,x"] + [f"{i},{i / 2}" for i in range(1, 30_000)] + ["30000,lots"]
    file = as_file("\n".join(lines) + "\n")
    preview = csv_preview(file)
    with pytest.raises(CsvRejected) as caught:
        list(csv_chunks(file, preview.layout, list(preview.columns)))
    assert caught.value.problems == [(30_001, "x", "lots", "Not a number.")]
    assert caught.value.total == 1


def test_problems_are_counted_past_the_first_hundred():
    lines = ["n"] + ["1"] * 100 + ["bad"] * 250
    file = as_file("\n".join(lines))
    preview = csv_preview(file)
    preview.columns = (Column("n", "n", "integer"),)
    with pytest.raises(CsvRejected) as caught:
        list(csv_chunks(file, preview.layout, list(preview.columns)))
    assert len(caught.value.problems) == MAX_REPORTED_PROBLEMS and caught.value.total == 250
    assert caught.value.problems[0] == (102, "n", "bad", "Not a whole number.")


def test_bad_cells_can_be_made_empty():
    file = as_file("n\n1\n2\nthree\n")
    preview = csv_preview(file)
    assert preview.columns[0].kind == "text"  # three values, all distinct
    columns = [Column("n", "n", "integer", nullable=True)]
    rows = [row for frame in csv_chunks(file, preview.layout, columns, empty_bad_cells=True)
            for row in frame["n"].tolist()]  # fmt: skip
    assert rows[:2] == [1, 2] and str(rows[2]) == "<NA>"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty."),
        (b"a,b\n", "The file has a header but no rows."),
        (b"a,b\n1,2\n3,4,5\n", "Row 3 has 3 cells, the header 2."),
        (b"a,b\n1,2,3\n3,4\n", "Row 2 has more cells than the header's 2."),
        (b"a,b\n1,\xff\xfe\n", "The file is not UTF-8 text (byte 7 is not UTF-8)."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a CSV file: it holds binary data."),
        (b'a,b\n1,"open\n', "A quote is opened and never closed."),
        (b"\x1f\x8b\x08\x00broken", "The file looks gzip-compressed but cannot be uncompressed."),
    ],
)
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(CsvRejected) as caught:
        rows_of(io.BytesIO(data))
    assert caught.value.message.startswith(message)


def test_rows_with_fewer_cells_get_empty_ones():
    rows = rows_of(as_file("a,b,c\n1,2\n4,5,6\n"))
    assert rows[1] == {"a": 4, "b": 5, "c": 6} and rows[0]["c"] is None


def test_bad_cells_keep_their_spreadsheet_row_across_blank_lines_and_line_breaks():
    file = as_file('n,note\n1,a\n\n2,"two\nlines"\n   \nthree,c\n4,d\n')
    preview = csv_preview(file)
    columns = [Column("n", "n", "integer"), Column("note", "note", "text", max_length=100)]
    with pytest.raises(CsvRejected) as caught:
        list(csv_chunks(file, preview.layout, columns))
    assert caught.value.problems == [(6, "n", "three", "Not a whole number.")]  # rows 3 and 5 are blank
    rows = list(csv_chunks(as_file("n\n1\n\n2\n"), csv_preview(as_file("n\n1\n\n2\n")).layout, columns[:1]))
    assert [value for frame in rows for value in frame["n"].tolist()] == [1, 2]  # blank lines are no rows
