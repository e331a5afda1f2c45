"""The log's format, one definition for Django (settings.LOGGING) and gunicorn (gunicorn.conf.py).

LOG_FORMAT=plain (the default) writes the readable line the app always wrote;
LOG_FORMAT=json writes one JSON object per line for a log collector: time
(UTC, ISO 8601), level, logger, message and request_id, plus a record's
extra fields and its traceback.  The request id is the one of the request
(its X-Request-ID: bandersnatch.request_ids) or the background job
(its id) the line was written for, and null elsewhere.

Imported by gunicorn's master process before Django is set up: nothing here
may read Django's settings.
"""

from __future__ import annotations

import logging
import logging.config

LOG_FORMATS = ("plain", "json")

# Copies the request id onto every record a handler writes (as record.request_id).
REQUEST_ID_FILTER = {"()": "bandersnatch.request_ids.RequestIdFilter"}

FORMATTERS = {
    "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": ["levelname", "name", "message", "request_id"],
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
    },
}


def logging_config(*, log_format: str, level: str, django_level: str) -> dict:
    """settings.LOGGING: every record to standard error, in `log_format`, with its request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": REQUEST_ID_FILTER},
        "formatters": {log_format: FORMATTERS[log_format]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"level": django_level, "propagate": True},
            "axes": {"level": "WARNING"},  # its start-up banner, in every process
        },
    }


def logging_configure(config: dict) -> None:
    """settings.LOGGING_CONFIG: apply settings.LOGGING; in JSON, Python's warnings become records
    too (logger py.warnings), so that every line on standard error is a JSON object."""
    logging.config.dictConfig(config)
    logging.captureWarnings("json" in config["formatters"])


def gunicorn_logging_config(log_format: str) -> dict:
    """gunicorn's logconfig_dict: its own messages in `log_format` on standard error.

    Empty for the plain format, which leaves gunicorn's own line as it was (and
    for an unknown one, which the app's settings refuse with a message).
    Levels are left to gunicorn (`--log-level`).
    """
    if log_format != "json":
        return {}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"handlers": []},  # the app's settings.LOGGING configures it in each worker
        "filters": {"request_id": REQUEST_ID_FILTER},
        "formatters": {log_format: FORMATTERS[log_format]},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"handlers": ["error_console"], "propagate": False},
        },
    }
