"""Database helpers shared by the apps."""

from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, connections, transaction


class QueryTimedOut(Exception):
    """The database gave up on a query after DATA_QUERY_TIMEOUT_MS."""


@contextmanager
def time_limited_queries(*, work_mem: str | None = None):
    """Run the enclosed queries in one transaction under a statement_timeout.

    PostgreSQL only; elsewhere the block runs unchanged.  A query cut short
    raises QueryTimedOut, which pages turn into a message instead of hanging.
    `work_mem` (e.g. "64MB") lets grouped aggregates hash in memory instead of
    sorting on disk.
    """
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(settings.DATA_QUERY_TIMEOUT_MS)]
                )
                if work_mem:
                    cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
            yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) == "57014":  # query_canceled
            raise QueryTimedOut from exc
        raise


@contextmanager
def sorted_grouping(using: str = "default"):
    """Within a transaction, group by reading an index in order instead of hashing.

    For a GROUP BY on an indexed column, PostgreSQL's planner prefers hashing
    every row of the table; walking the column's index (an index-only scan,
    no hash table) takes half the time.  Elsewhere, and outside a
    transaction, the block runs unchanged.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.get_autocommit():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_hashagg', 'off', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_hashagg', 'on', true)")


@contextmanager
def streaming_reads(using: str = "default"):
    """Hold the enclosed reads in one transaction on PostgreSQL, so `.iterator()` streams.

    Outside a transaction Django declares a server-side cursor WITH HOLD, and
    PostgreSQL then computes the whole result and stores it (in memory or a
    temporary file) when the DECLARE commits, before the first row comes back.
    Inside one the cursor is a plain one: rows come as they are fetched, from
    one snapshot of the table.  Elsewhere the block runs unchanged (on SQLite a
    transaction would hold the write lock for as long as the reads take).
    """
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        yield
