"""PostgreSQL binary COPY, encoded from whole DataFrame columns at once.

A row-by-row encoder (psycopg2's own, or the pgcopy package) spends seconds of
Python per million rows; here every row is a handful of byte ranges, gathered
from one small pool with numpy.  Text columns must be Categoricals (their few
distinct values are encoded once), numbers become big-endian fixed width.
Format: https://www.postgresql.org/docs/current/sql-copy.html (Binary Format).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + np.array([0, 0], ">i4").tobytes()
TRAILER = np.array([-1], ">i2").tobytes()
POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# numpy type of each PostgreSQL type a column may be sent as.
NUMERIC_TYPES = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "double precision": ">f8"}
# A timestamptz travels as microseconds since POSTGRES_EPOCH, a big-endian int64.
EPOCH_MICROS = (POSTGRES_EPOCH - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _with_length(values: np.ndarray) -> np.ndarray:
    """Each value prefixed by its int32 byte length, one uint8 row per value."""
    pieces = np.empty(len(values), [("length", ">i4"), ("value", values.dtype)])
    pieces["length"] = values.dtype.itemsize
    pieces["value"] = values
    return pieces.view(np.uint8).reshape(len(values), -1)


def _text_field(value: str) -> bytes:
    data = value.encode()
    return np.array([len(data)], ">i4").tobytes() + data


def _timestamptz_field(value: dt.datetime) -> bytes:
    micros = (value - POSTGRES_EPOCH) // dt.timedelta(microseconds=1)
    return np.array([8], ">i4").tobytes() + np.array([micros], ">i8").tobytes()


def encode_rows(frame: pd.DataFrame, types: dict[str, str], constants: dict) -> bytes:
    """The binary COPY tuples of `frame` (no signature, no trailer).

    `types` maps each column to its PostgreSQL type: "text" for Categoricals,
    "timestamptz" for timezone-aware datetimes, else one of NUMERIC_TYPES.
    `constants` holds fields that are the same in every row (a datetime is
    sent as timestamptz), appended after the columns.
    """
    count = len(frame)
    pool: list[bytes] = [np.array([len(types) + len(constants)], ">i2").tobytes()]
    pool_size = len(pool[0])
    starts, lengths = [np.zeros(count, np.int64)], [np.full(count, pool_size)]

    def add_to_pool(data: bytes) -> int:
        nonlocal pool_size
        pool.append(data)
        pool_size += len(data)
        return pool_size - len(data)

    for column, pg_type in types.items():
        values = frame[column]
        if pg_type == "text":
            blobs = [_text_field(str(category)) for category in values.cat.categories]
            blob_start = np.array([add_to_pool(blob) for blob in blobs])
            blob_length = np.array([len(blob) for blob in blobs])
            codes = values.cat.codes.to_numpy()
            starts.append(blob_start[codes])
            lengths.append(blob_length[codes])
        else:
            if pg_type == "timestamptz":
                values, pg_type = values.dt.as_unit("us").astype("int64") - EPOCH_MICROS, "bigint"
            fields = _with_length(values.to_numpy().astype(NUMERIC_TYPES[pg_type]))
            base = add_to_pool(fields.tobytes())
            starts.append(base + np.arange(count) * fields.shape[1])
            lengths.append(np.full(count, fields.shape[1]))
    for value in constants.values():
        data = _timestamptz_field(value) if isinstance(value, dt.datetime) else value
        starts.append(np.full(count, add_to_pool(data)))
        lengths.append(np.full(count, len(data)))

    # Row-major: row 0's pieces, then row 1's... then one gather from the pool.
    piece_start = np.column_stack(starts).ravel()
    piece_length = np.column_stack(lengths).ravel()
    piece_offset = np.cumsum(piece_length) - piece_length
    index = np.repeat(piece_start - piece_offset, piece_length)
    index += np.arange(len(index))
    return np.frombuffer(b"".join(pool), np.uint8)[index].tobytes()


def prefetched(chunks: Iterable[bytes], depth: int = 2) -> Iterator[bytes]:
    """Produce `chunks` in a background thread, up to `depth` ahead of the reader.

    numpy releases the GIL, so the next chunks are encoded while PostgreSQL
    parses the current one.  An error in the producer is raised in the reader.
    """
    pending: queue.Queue = queue.Queue(maxsize=depth)
    finished = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                pending.put(chunk)
            pending.put(finished)
        except BaseException as exc:  # handed over to the reading thread
            pending.put(exc)

    producer = threading.Thread(target=produce, name="copy-encoder", daemon=True)
    producer.start()
    try:
        while (item := pending.get()) is not finished:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            try:
                pending.get(timeout=0.1)
            except queue.Empty:
                pass
        producer.join()


class CopyStream:
    """A file-like object that psycopg2's copy_expert reads, chunk by chunk.

    Encoding happens as PostgreSQL asks for data, so memory stays at one chunk.
    psycopg2 turns an error raised in read() into a QueryCanceled that only
    keeps its message; `error` keeps the original for the caller to re-raise.
    """

    def __init__(self, chunks: Iterable[bytes]):
        self._source: Iterator[bytes] = iter(chunks)
        self._buffer = bytearray(SIGNATURE)
        self._done = False
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                self._buffer += next(self._source)
            except StopIteration:
                self._buffer += TRAILER
                self._done = True
            except BaseException as exc:
                self.error = exc
                raise
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    readline = read
