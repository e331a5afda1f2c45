"""Fixtures shared by every app's tests."""

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
