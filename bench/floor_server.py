"""The floor for the API's ratio: the pipeline the API serves, answering one JSON monster, and nothing else.

A bare WSGI callable that loads the active model version's Machine the way the
app does (ml.services.active_machine, from the benchmark's database) when a
worker starts.  A request is then JSON in, predict_proba, JSON out: no Django,
no validation, no in-distribution check, no prediction log.  The API's
requests/s over this server's is the share of the machine that serving
costs beyond the prediction itself.

    gunicorn bench.floor_server:app
"""

from __future__ import annotations

import json

from .django_setup import configure

configure()
from ml.services import active_machine  # noqa: E402  (needs Django set up)

MACHINE = active_machine()
CLASSES = MACHINE.classes


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    record = json.loads(environ["wsgi.input"].read(length))
    probabilities = MACHINE.probabilities(MACHINE.rows([record]))[0]
    best = int(probabilities.argmax())
    body = json.dumps({"prediction": CLASSES[best], "confidence": float(probabilities[best])}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
