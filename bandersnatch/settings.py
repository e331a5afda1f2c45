"""Bandersnatch settings, read from the environment (and an optional `.env`).

Production differences come from environment variables, not from other files:
DEBUG is off unless asked for, and then a SECRET_KEY is required.
"""

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured

from analytics import plotly_js
from bandersnatch.logs import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: the SQLite file, collected static files

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def _at_least_one(name: str, default: int) -> int:
    """A whole number setting that 0 or less would make wrong (a retention, a batch size)."""
    value = env.int(name, default=default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least 1, not {value}.")
    return value


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or in .env) to a long "
            "random string, or set DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"
# The key that signs stored model versions (HMAC-SHA256 of each pickled blob),
# kept outside the database so that whoever can write a row cannot forge one.
# By default derived from SECRET_KEY, so no other secret is needed to start;
# after the key changes, an operator re-signs with `manage.py sign_model_versions`.
MODEL_SIGNING_KEY = (
    env.str("MODEL_SIGNING_KEY", default="")
    or hmac.new(SECRET_KEY.encode(), b"bandersnatch: model version signing key", hashlib.sha256).hexdigest()
)
# The key MODEL_SIGNING_KEY replaced, for `manage.py sign_model_versions` only:
# it then re-signs just the blobs that this key signed.
MODEL_SIGNING_PREVIOUS_KEY = env.str("MODEL_SIGNING_PREVIOUS_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "bandersnatch.admin_site.BandersnatchAdminConfig",  # the admin, staff only (403 otherwise)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs' Swagger UI from our own static files
    "axes",  # throttles repeated failed sign-ins
    "csp",  # the Content-Security-Policy header (its checks of the settings below)
    # Accounts, the audit log and the job pages; before django_tasks_db so that
    # its db_worker command is ours (the one that outlasts database restarts).
    "bandersnatch",
    "django_tasks",
    "django_tasks_db",  # background jobs, queued in the database
    "monsters",
    "analytics",
    "ml",
]

# /metrics in Prometheus's format, with METRICS_ENABLED; readable from
# METRICS_ALLOWED_IPS (addresses or networks: loopback by default) or with
# `Authorization: Bearer METRICS_TOKEN` (when set); 403 for anyone else.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.0/8", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from None

MIDDLEWARE = [
    "bandersnatch.request_ids.RequestIdMiddleware",  # first: every later log line carries the request id
    # Each request's view, status and latency, timed through all the middleware below.
    *(["bandersnatch.metrics.RequestMetricsMiddleware"] if METRICS_ENABLED else []),
    "bandersnatch.middleware.ServerTimingMiddleware",
    "bandersnatch.middleware.ApiErrorsAsJsonMiddleware",
    "bandersnatch.middleware.ChunkedBodyMiddleware",  # before anything reads the body
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # early: error responses of the middleware below carry it too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",  # chart pages carry figure data
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "bandersnatch.middleware.JobNotificationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "bandersnatch.urls"
WSGI_APPLICATION = "bandersnatch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bandersnatch.context_processors.page_timer",
            ],
        },
    },
]

# Unset: an embedded SQLite file; DATABASE_URL=postgres://... for PostgreSQL.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while a seed or the worker writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # JIT compiling costs ~100 ms, more than the aggregates it would speed up.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Longest time one query of a data or chart page may take before it gives up (ms).
DATA_QUERY_TIMEOUT_MS = env.int("DATA_QUERY_TIMEOUT_MS", default=3000)

# The prediction log: kept this many days (manage.py maintenance deletes the
# older entries), and written in background batches unless PREDICTION_LOG_SYNC
# (the tests).
PREDICTION_LOG_RETENTION_DAYS = _at_least_one("PREDICTION_LOG_RETENTION_DAYS", 90)
PREDICTION_LOG_SYNC = env.bool("PREDICTION_LOG_SYNC", default=False)
# Entries a server process keeps queued while the database is away (about
# 1 KB each); past it the oldest are dropped, counted in the log.
PREDICTION_LOG_MAX_PENDING = env.int("PREDICTION_LOG_MAX_PENDING", default=100_000)
# Largest JSON body the API reads (a 1,000-monster batch is about 80 KB).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
# Largest CSV file the staff import page takes.  Uploads above Django's
# FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) stream to a temporary file first.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# A dataset's file (as uploaded: a gzip counts compressed) and its widest table.
DATASET_MAX_BYTES = env.int("DATASET_MAX_BYTES", default=500 * 1024 * 1024)
DATASET_MAX_COLUMNS = env.int("DATASET_MAX_COLUMNS", default=200)
# Uploaded files wait here between their preview and their load (a job, maybe on
# another machine: share this directory, or set STORAGES to a shared store).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

# Also holds the request limits' counts: with Redis they hold across processes
# and hosts, with the default local memory each process counts on its own.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}


def _rate(name: str, default: str) -> str | None:
    """A limit such as `600/m` (N per s, m, h or d; `10/5m` per five minutes), or None for `off`."""
    value = env.str(name, default=default).strip().lower()
    if value == "off":
        return None
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 600/m (per s, m, h or d) or off: {value}")
    return value


# The JSON API's limits: callers without a token per IP address, token holders
# per token (bandersnatch.throttles).  The health endpoints are never limited.
API_THROTTLE_ANON = _rate("API_THROTTLE_ANON", "600/m")
API_THROTTLE_TOKEN = _rate("API_THROTTLE_TOKEN", "6000/m")
# Sign-up and password reset requests, per email address asked for and per IP
# address (sign-in has django-axes).
ACCOUNT_THROTTLE_EMAIL = _rate("ACCOUNT_THROTTLE_EMAIL", "5/h")
ACCOUNT_THROTTLE_IP = _rate("ACCOUNT_THROTTLE_IP", "20/h")
# The IP address the limits count, read as django-axes reads it for sign-in.
RATELIMIT_IP_META_KEY = "bandersnatch.throttles.client_address"
RATELIMIT_FAIL_OPEN = True  # a cache that cannot count lets requests through

# Mail (password reset links): printed on the console in development, else
# SMTP, e.g. EMAIL_URL=smtp+tls://user:password@smtp.example.com:587.
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bandersnatch <bandersnatch@localhost>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT failed sign-ins for one account from one address,
# sign-in is refused there for AXES_COOLOFF_TIME (a 429 page says so).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Background jobs (training, large reseeds): queued in the database and run
# by `manage.py db_worker`; no other server needed.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A job whose worker stopped answering for this long is shown as failed.
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=60)
# Jobs queued this long while no worker has checked in for as long make
# /api/health answer 503 and /ops/ warn.
JOB_WORKER_STALE_SECONDS = env.int("JOB_WORKER_STALE_SECONDS", default=60)
# Finished jobs (succeeded or failed) are kept this many days after they end.
JOB_RETENTION_DAYS = _at_least_one("JOB_RETENTION_DAYS", 30)

# Daily maintenance (bandersnatch.maintenance): `manage.py scheduler` runs it at
# MAINTENANCE_TIME (HH:MM, 24-hour, in TIME_ZONE); it deletes old rows this many
# at a time, each batch a short transaction of its own.
MAINTENANCE_TIME = env.str("MAINTENANCE_TIME", default="03:30")
MAINTENANCE_BATCH_SIZE = _at_least_one("MAINTENANCE_BATCH_SIZE", 5_000)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "monsters:home"
LOGOUT_REDIRECT_URL = "monsters:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed files with content hashes in their names, cached for ever.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# WhiteNoise serves the collected files (gzip and Brotli beside each) under `make run` as in
# production: plotly.js is 4.8 MB as written, 1.4 MB gzipped.  SERVE_STATIC_SOURCES=true serves
# the files as written instead (edits show without collectstatic, uncompressed).
WHITENOISE_USE_FINDERS = env.bool("SERVE_STATIC_SOURCES", default=False)
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS
if WHITENOISE_USE_FINDERS:  # as written, under their own names: no collected manifest needed
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Production hardening; each can be relaxed from the environment (e.g. behind a
# proxy that already redirects to HTTPS).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Prometheus scrapes each server directly, in plain HTTP: a redirect would only fail it.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page: scripts, styles and everything else from our own origin only; no inline
# script or style, no eval (plotly.js is its strict bundle: analytics/plotly_js.py), no
# style attribute but the two fixed ones plotly.js writes (FIXED_STYLE_ATTRIBUTES).
# Images may be data:/blob: URLs (Plotly's "download as PNG").  CSP_REPORT_URI: where
# browsers send reports of what the policy refused (unset: nowhere).
_csp_report_uri = env.str("CSP_REPORT_URI", default="")  # lower case: django-csp takes CSP_* for old settings
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_HASHES, *map(plotly_js.csp_hash, plotly_js.FIXED_STYLE_ATTRIBUTES)],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}

# LOG_FORMAT=plain (the default): a readable line; json: one JSON object per line
# with the time, level, logger, message and request id (bandersnatch.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: use one of {', '.join(LOG_FORMATS)}.")
LOGGING_CONFIG = "bandersnatch.logs.logging_configure"
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env.str("LOG_LEVEL", default="INFO"),
    django_level=env.str("DJANGO_LOG_LEVEL", default="INFO"),
)
