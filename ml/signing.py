"""Signatures of a model version's pickled blobs: HMAC-SHA256 keyed by settings.MODEL_SIGNING_KEY.

The sha256 stored beside a blob catches corruption, but whoever can write the
row can write a matching sha256 for a forged pickle too.  The signing key lives
outside the database, so only this app (and an operator running
`manage.py sign_model_versions`) can make a signature that checks out.  Each
signature covers the blob's kind and version number, so blobs cannot be
swapped between versions or roles either.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

PIPELINE = "pipeline"
DETECTOR = "detector"


def blob_signature(blob: bytes, *, kind: str, version: int, key: str = "") -> str:
    """The hex signature of one blob (`kind`: PIPELINE or DETECTOR) of model version `version`.

    Made with `key`, by default settings.MODEL_SIGNING_KEY.
    """
    key = key or settings.MODEL_SIGNING_KEY
    mac = hmac.new(key.encode(), f"{kind} of v{version}\n".encode(), hashlib.sha256)
    mac.update(blob)
    return mac.hexdigest()


def blob_signature_valid(blob: bytes, signature: str, *, kind: str, version: int, key: str = "") -> bool:
    """True when `signature` was made for these bytes with `key` (by default this server's)."""
    expected = blob_signature(blob, kind=kind, version=version, key=key)
    return bool(signature) and hmac.compare_digest(expected, signature)
