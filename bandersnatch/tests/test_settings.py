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


MAIL = (
    "from django.conf import settings as s;"
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_HOST_USER,"
    " s.DEFAULT_FROM_EMAIL, sep='|')"
)


def test_mail_is_printed_in_development():
    result = manage("shell", "-v", "0", "-c", MAIL, DEBUG="true")
    assert result.stdout.split("|")[0] == "django.core.mail.backends.console.EmailBackend", result.stderr


def test_production_sends_mail_by_smtp_as_the_environment_says():
    mail = {
        "EMAIL_URL": "smtp+tls://mailer:s3cret@smtp.example.com:587",
        "DEFAULT_FROM_EMAIL": "Bandersnatch <noreply@example.com>",
    }
    result = manage("shell", "-v", "0", "-c", MAIL, **PRODUCTION, **mail)
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "587",
        "True",
        "mailer",
        "Bandersnatch <noreply@example.com>",
    ], result.stderr


def test_request_limits_are_rates_or_off():
    code = (
        "from django.conf import settings as s;"
        "print(s.API_THROTTLE_ANON, s.API_THROTTLE_TOKEN, s.ACCOUNT_THROTTLE_IP)"
    )
    result = manage(
        "shell", "-v", "0", "-c", code, DEBUG="true", API_THROTTLE_ANON="OFF", API_THROTTLE_TOKEN="100/5m"
    )
    assert result.stdout.split() == ["None", "100/5m", "20/h"], result.stderr


@pytest.mark.parametrize("value", ["fast", "600", "0/m", "600/w", "-1/m"])
def test_a_limit_that_is_not_a_rate_stops_start_up_naming_it(value):
    result = manage("check", DEBUG="true", API_THROTTLE_TOKEN=value)
    assert result.returncode != 0
    assert "API_THROTTLE_TOKEN must be a rate such as 600/m (per s, m, h or d) or off" in result.stderr
