"""The daily maintenance: deleting old prediction log entries in batches against one DELETE.

The log gets `count` entries older than the retention and a quarter as many
recent ones (INSERT ... SELECT generate_series), then loses the old ones in
batches of MAINTENANCE_BATCH_SIZE (delete_in_batches, as the maintenance does)
or in the single DELETE that pruning used before.  The longest statement is
the longest time a writer could wait on a deleted row's lock, and the
longest the deleting transaction holds its snapshot.
"""

from __future__ import annotations

import time

RECENT_SHARE = 4  # one recent entry for every RECENT_SHARE old ones


def fill(count: int) -> None:
    from django.db import connection

    from ml.models import PredictionLog

    table = connection.ops.quote_name(PredictionLog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        for rows, age in ((count, "100 days"), (count // RECENT_SHARE, "1 day")):
            cursor.execute(
                f"""
                INSERT INTO {table} (created_at, source, model_version, inputs, prediction, confidence,
                    probabilities, in_distribution, latency_ms, request_id, feedback_value, feedback_added)
                SELECT now() - %s::interval - n * interval '1 second', 'api', 1,
                    '{{"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}}', 'Rank 1', 0.9,
                    '{{"Rank 1": 0.9, "Rank 2": 0.1}}', true, 1.0, '', '', false
                FROM generate_series(1, %s) AS n
                """,
                [age, rows],
            )
        cursor.execute(f"VACUUM ANALYZE {table}")


def measure(delete) -> tuple[int, float, float, int]:
    """Rows deleted, seconds in all, the longest DELETE's seconds, and how many DELETEs ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        deleted = delete()
    seconds = time.perf_counter() - started
    times = [float(q["time"]) for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    return deleted, seconds, max(times), len(times)


def run(count: int, *, repeat: int, log) -> str:
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from bandersnatch.db import delete_in_batches
    from ml.models import PredictionLog

    def old():
        return PredictionLog.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=90))

    methods = {
        f"batches of {settings.MAINTENANCE_BATCH_SIZE:,} (`manage.py maintenance`)": lambda: (
            delete_in_batches(old())
        ),
        "one DELETE (pruning before)": lambda: old().delete()[0],
    }
    lines = [
        f"Deleting {count:,} prediction log entries older than the retention from a log of "
        f"{count + count // RECENT_SHARE:,} (the recent ones stay; freshly vacuumed each time):",
        "",
        "| method | deleted | total | longest statement (lock held) | statements |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, delete in methods.items():
        log(f"   filling the log for {name}")
        fill(count)
        deleted, seconds, longest, statements = measure(delete)
        cells = [name, f"{deleted:,}", f"{seconds:.2f} s", f"{longest * 1000:.0f} ms", f"{statements:,}"]
        log("   " + " | ".join(cells))
        lines.append("| " + " | ".join(cells) + " |")
    fill(0)
    return "\n".join([*lines, ""])
