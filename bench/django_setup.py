"""Point Django at a PostgreSQL database of the benchmark's own, and start it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bandersnatch_bench"


def setup() -> str:
    """Create the database if needed, configure Django for it, migrate; return its URL."""
    url = configure()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages render as in production
    return url


def configure() -> str:
    """The benchmark's environment, also for the servers it starts; Django set up; the database URL."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _create_database(url)
    os.environ.update(server_environment(url), DJANGO_SETTINGS_MODULE="bandersnatch.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return url


def server_environment(url: str) -> dict[str, str]:
    """Production settings against the benchmark database (no HTTPS on loopback).

    The API's request limits are off: the load runs from one address, and the
    measure is the app's speed, not the limit.
    """
    return {
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-not-secret",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_ANON": "off",
        "API_THROTTLE_TOKEN": "off",
    }


def _create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        dbname="postgres", user=parts.username, password=parts.password, host=parts.hostname, port=parts.port
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
