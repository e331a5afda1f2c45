import pytest
from django.db import connection

from bandersnatch.db import Backoff, sorted_grouping


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_hashagg")
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_sorted_grouping_turns_hashing_off_for_its_block_only():
    """pytest-django runs each test in a transaction, as the pages run their queries."""
    with sorted_grouping():
        assert setting() == "off"
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN SELECT name, count(*) FROM monsters_monster GROUP BY name")
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "HashAggregate" not in plan
    assert setting() == "on"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout of PostgreSQL")
def test_a_query_timed_out_inside_it_is_reported_as_timed_out(settings):
    """The statistics page at ten million rows: a timeout, not "current transaction is aborted"."""
    from bandersnatch.db import QueryTimedOut, time_limited_queries

    settings.DATA_QUERY_TIMEOUT_MS = 20
    with pytest.raises(QueryTimedOut), time_limited_queries(), sorted_grouping():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")


def test_the_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success():
    backoff = Backoff(first=0.5, cap=4)
    assert [backoff.failed() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    backoff.succeeded()
    assert backoff.failed() == 0.5
