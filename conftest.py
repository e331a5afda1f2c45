"""Fixtures shared by every app's tests."""

from contextlib import contextmanager

import pytest


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as its database starts empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(db):
    """A dataset's owner, another user and staff: who sees what."""
    from django.contrib.auth.models import User

    return {
        "owner": User.objects.create_user("owner"),
        "other": User.objects.create_user("other"),
        "staff": User.objects.create_user("staff", is_staff=True),
    }


@pytest.fixture
def seeded_monsters(db):
    """1,000 monsters from a fixed seed, the size `make run` starts with."""
    from monsters.services import monsters_seed

    monsters_seed(count=1_000, seed=42)


@pytest.fixture
def trained_version(seeded_monsters):
    """The default model, trained on the seeded monsters and active."""
    from ml.services import model_version_train

    return model_version_train(seed=1)


@pytest.fixture(autouse=True)
def _fresh_model_caches():
    """Per-process model caches must not carry one test's versions into the next."""
    from ml import services

    services.forget_active_version()
    services._load.cache_clear()
    yield
    services.forget_active_version()
    services._load.cache_clear()


@pytest.fixture
def database_outage(transactional_db):
    """A database restart as some connections see it: cut, then refused until the block ends.

    `with database_outage(application_name) as cut:` terminates the test
    database's connections of that application_name (`cut` counts them) and
    refuses new connections to the test database until the block ends.  Other
    connections, this test's own included, stay open; nothing else is touched.
    PostgreSQL only.
    """
    import psycopg2
    from django.db import connection
    from psycopg2 import sql

    params = connection.get_connection_params()
    keys = ("user", "host", "port", "password")
    database = sql.Identifier(connection.settings_dict["NAME"])

    @contextmanager
    def outage(application_name: str):
        control = psycopg2.connect(dbname="postgres", **{k: v for k, v in params.items() if k in keys})
        control.autocommit = True
        try:
            with control.cursor() as cursor:
                cursor.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(database))
                try:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = %s AND application_name = %s",
                        [connection.settings_dict["NAME"], application_name],
                    )
                    yield cursor.fetchone()[0]
                finally:
                    cursor.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(database))
        finally:
            control.close()

    return outage
