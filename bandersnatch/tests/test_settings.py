"""Settings come from the environment; run Django in a subprocess to see them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "bandersnatch.example.com",
}


def manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_debug_a_missing_secret_key_stops_start_up_with_a_clear_message():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("SESSION_COOKIE_SECURE", "True"),
        ("CSRF_COOKIE_SECURE", "True"),
        ("SECURE_SSL_REDIRECT", "True"),
        ("DEBUG", "False"),
    ],
)
def test_production_defaults_are_safe(setting, expected):
    code = f"from django.conf import settings; print(settings.{setting})"
    result = manage("shell", "-v", "0", "-c", code, **PRODUCTION)
    assert result.stdout.strip() == expected, result.stderr


def test_database_url_selects_postgresql_with_persistent_checked_connections():
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    result = manage(
        "shell", "-v", "0", "-c", code, DATABASE_URL="postgres://u@db.example:5432/monsters", DEBUG="true"
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "monsters", "600", "True"], (
        result.stderr
    )


def test_sqlite_is_the_default_database():
    code = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    env = {"DEBUG": "true", "DATABASE_URL": ""}
    result = manage("shell", "-v", "0", "-c", code, **env)
    assert result.stdout.strip() == str(ROOT / "var" / "db.sqlite3"), result.stderr


def test_serving_the_static_sources_needs_no_collected_manifest():
    """SERVE_STATIC_SOURCES=true with DEBUG off (a test's server, a quick look): pages name the
    files as written instead of failing on a manifest collectstatic never made."""
    code = "from django.templatetags.static import static; print(static('js/site.js'))"
    result = manage("shell", "--no-imports", "-c", code, SERVE_STATIC_SOURCES="true", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/static/js/site.js"
    storage = "from django.conf import settings; print(settings.STORAGES['staticfiles'])"
    hashed = manage("shell", "--no-imports", "-c", storage, **PRODUCTION)
    assert "CompressedManifestStaticFilesStorage" in hashed.stdout
