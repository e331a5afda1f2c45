"""Database helpers shared by the apps."""

from contextlib import contextmanager

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import QuerySet

# What a database restart looks like from here: connections cut, then refused.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class Backoff:
    """Seconds to wait between tries while the database is away: `first`, doubling up to `cap`.

    After a success the next failure waits `first` again.
    """

    def __init__(self, *, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0  # in a row

    def failed(self) -> float:
        """Count a failed try; the seconds to wait before the next."""
        self.failures += 1
        return min(self.cap, self.first * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0


def error_line(exc: BaseException) -> str:
    """The error's message on one line (psycopg2's span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


DATABASE_DOWN_MESSAGE = "The database does not answer."


class QueryTimedOut(Exception):
    """The database gave up on a query after DATA_QUERY_TIMEOUT_MS."""


# The pages' work_mem: grouped aggregates hash in memory rather than sort on disk, and
# the bitmap of a filter over millions of rows stays exact (at the default 4 MB it turns
# lossy, and every row of every page it touches is checked again).
PAGE_WORK_MEM = "64MB"


@contextmanager
def time_limited_queries(*, work_mem: str | None = PAGE_WORK_MEM):
    """Run the enclosed queries in one transaction under a statement_timeout, with `work_mem`.

    PostgreSQL only; elsewhere the block runs unchanged.  A query cut short
    raises QueryTimedOut, which pages turn into a message instead of hanging.
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
    yield
    # Not in a `finally`: after an error the transaction is aborted (a query would
    # only hide the error) and its end undoes the setting anyway.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_hashagg', 'on', true)")


def database_unreachable(error: BaseException | None) -> bool:
    """Whether `error` means the database cannot be reached now, rather than a fault in a query.

    Both are OperationalError (SQLite's "no such table" too), so the
    connections themselves decide: one that cannot be made, or no longer
    answers, is the database being down.
    """
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    for database in connections.all(initialized_only=True):
        try:
            database.ensure_connection()  # a new connection when the failed one was never made
        except (OperationalError, InterfaceError):
            return True
        if not database.is_usable():
            return True
    return False


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


def delete_in_batches(queryset: QuerySet, *, batch_size: int | None = None, with_each=None) -> int:
    """Delete the rows of `queryset`, `batch_size` (MAINTENANCE_BATCH_SIZE) at a time; how many went.

    Each batch is one DELETE of a range of primary keys, in a transaction of
    its own: no row is loaded into Python, and no lock is held longer than one
    batch takes, so the site's own writes go on meanwhile.  The batches walk
    the primary key onwards from where the last one ended (the range's end is
    the batch_size-th matching key), so no batch scans again the dead rows
    the earlier ones left: the whole run costs one pass, however many rows.
    `with_each(batch)`, if given, runs in each batch's transaction before its
    DELETE (rows of another table that go with these, say).
    """
    batch_size = batch_size or settings.MAINTENANCE_BATCH_SIZE
    label = queryset.model._meta.label
    deleted, last = 0, None
    while True:
        rest = queryset.order_by("pk") if last is None else queryset.order_by("pk").filter(pk__gt=last)
        end = list(rest.values_list("pk", flat=True)[batch_size - 1 : batch_size])
        batch = rest.filter(pk__lte=end[0]) if end else rest
        with transaction.atomic(using=queryset.db):
            if with_each is not None:
                with_each(batch)
            _, per_model = batch.delete()
        deleted += per_model.get(label, 0)
        if not end:
            return deleted
        last = end[0]
