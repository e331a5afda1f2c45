"""The original app's way of serving predictions, for the ratio: a default random forest, one
request per prediction, a DataFrame per request.

A bare WSGI callable with no framework (the original used Flask, which only adds
time per request), trained on the monsters in the benchmark's database when a
worker starts:  gunicorn bench.original_server:app
"""

from __future__ import annotations

import json
import threading

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from .django_setup import configure

FEATURES = ["level", "health", "energy", "sanity"]

configure()
from monsters.services import monsters_frame  # noqa: E402  (needs Django set up)

_frame = monsters_frame(columns=[*FEATURES, "rarity"])
MODEL = RandomForestClassifier().fit(_frame[FEATURES], _frame["rarity"].astype(str))
# One prediction at a time per process, as the original served them.  Under
# gunicorn's threads the forest's per-tree warning filters (process-wide) race,
# and every request would print scikit-learn UserWarnings to standard error.
_one_at_a_time = threading.Lock()


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    record = json.loads(environ["wsgi.input"].read(length))
    with _one_at_a_time:
        probabilities = MODEL.predict_proba(pd.DataFrame([record], columns=FEATURES))[0]
    best = int(probabilities.argmax())
    body = json.dumps(
        {"prediction": str(MODEL.classes_[best]), "confidence": float(probabilities[best])}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
