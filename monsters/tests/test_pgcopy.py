import datetime as dt
import struct

import pandas as pd
import pytest

from monsters.pgcopy import POSTGRES_EPOCH, SIGNATURE, TRAILER, CopyStream, encode_rows, prefetched


def read_fields(data: bytes, offset: int = 0) -> tuple[list[bytes], int]:
    """Parse one binary COPY tuple by the format's rules."""
    (count,) = struct.unpack_from(">h", data, offset)
    offset += 2
    fields = []
    for _ in range(count):
        (length,) = struct.unpack_from(">i", data, offset)
        offset += 4
        fields.append(data[offset : offset + length])
        offset += length
    return fields, offset


def test_rows_are_encoded_field_by_field():
    frame = pd.DataFrame(
        {
            "name": pd.Categorical(["Imp", "Ghoul", "Imp"]),
            "level": [3, 20, 1],
            "health": [6.5, 201.25, 1.0],
        }
    )
    moment = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    data = encode_rows(
        frame, {"name": "text", "level": "smallint", "health": "double precision"}, {"at": moment}
    )
    offset, rows = 0, []
    while offset < len(data):
        fields, offset = read_fields(data, offset)
        rows.append(fields)
    assert len(rows) == 3
    name, level, health, at = rows[1]
    assert name == b"Ghoul"
    assert struct.unpack(">h", level)[0] == 20
    assert struct.unpack(">d", health)[0] == 201.25
    micros = struct.unpack(">q", at)[0]
    assert POSTGRES_EPOCH + dt.timedelta(microseconds=micros) == moment


def test_a_timestamp_column_is_sent_as_microseconds_since_2000():
    moments = pd.Series(pd.to_datetime(["1999-12-31 23:59:59.000001", "2026-11-24 12:00:00.5"], utc=True))
    data = encode_rows(pd.DataFrame({"at": moments}), {"at": "timestamptz"}, {})
    first, offset = read_fields(data)
    second, _ = read_fields(data, offset)
    assert struct.unpack(">q", first[0])[0] == -999_999
    assert POSTGRES_EPOCH + dt.timedelta(microseconds=struct.unpack(">q", second[0])[0]) == moments[1]


def test_non_ascii_text_is_sent_as_utf8():
    frame = pd.DataFrame({"name": pd.Categorical(["Ünicorn ✨"])})
    fields, _ = read_fields(encode_rows(frame, {"name": "text"}, {}))
    assert fields == ["Ünicorn ✨".encode()]


def test_stream_wraps_chunks_in_signature_and_trailer():
    stream = CopyStream([b"abc", b"def"])
    data = b""
    while chunk := stream.read(4):
        data += chunk
    assert data == SIGNATURE + b"abcdef" + TRAILER


def test_prefetched_yields_in_order_and_reraises_errors():
    assert list(prefetched(iter([b"1", b"2", b"3"]))) == [b"1", b"2", b"3"]

    def broken():
        yield b"1"
        raise OSError("no space")

    with pytest.raises(OSError, match="no space"):
        list(prefetched(broken()))


def test_stream_keeps_the_producers_error():
    def broken():
        raise ValueError("bad chunk")
        yield b""

    stream = CopyStream(broken())
    with pytest.raises(ValueError):
        stream.read(100)
    assert isinstance(stream.error, ValueError)
