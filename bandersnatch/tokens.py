"""API tokens: made, checked and revoked here, and nowhere else.

A token is `bs_` and 43 random URL-safe characters (256 bits).  Only its
sha256 is stored: the secret is that long and random, so a plain hash cannot
be reversed by guessing, needs no salt, and lets a request find its token by
an indexed lookup.  (An HMAC with SECRET_KEY would add nothing, and a new
SECRET_KEY would break every token.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken

logger = logging.getLogger(__name__)

SCHEME = "bs_"
PREFIX_LENGTH = len(SCHEME) + 8  # shown beside the name: enough to tell tokens apart
MAX_ACTIVE_PER_USER = 50
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

TOKEN_UNKNOWN = "Unknown API token: check that it was copied whole."
TOKEN_REVOKED = "This API token was revoked: make a new one on your account page."
TOKEN_ACCOUNT_DISABLED = "This API token's account is disabled."
TOO_MANY_TOKENS = f"You have {MAX_ACTIVE_PER_USER} tokens already: revoke one you no longer use first."


class TokenRefused(Exception):
    """The token sent is unknown, revoked, or its account disabled: a 401 naming which."""


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new active token for `user` and its secret, which is not kept anywhere: show it once."""
    with transaction.atomic():
        # Lock the user's row so that two requests at once cannot pass the cap together.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_PER_USER:
            raise ValidationError(TOO_MANY_TOKENS, code="too_many")
        secret = SCHEME + secrets.token_urlsafe(32)
        token = ApiToken(user=user, name=name, prefix=secret[:PREFIX_LENGTH])
        token.secret_sha256 = secret_sha256(secret)
        token.full_clean()
        token.save()
    logger.info("API token %s (%s) made for %s", token.pk, token.prefix, user.get_username())
    return token, secret


def api_tokens_revoke(*, tokens: QuerySet[ApiToken], actor=None) -> int:
    """Revoke the active ones among `tokens` (one UPDATE); how many were revoked."""
    revoked = tokens.active().update(revoked_at=timezone.now())
    if revoked:
        who = actor.get_username() if actor is not None else "command line"
        logger.info("%d API token(s) revoked by %s", revoked, who)
    return revoked


def api_token_authenticate(secret: str) -> ApiToken:
    """The active token with this secret, its user loaded and its last use noted; else TokenRefused."""
    token = ApiToken.objects.select_related("user").filter(secret_sha256=secret_sha256(secret)).first()
    if token is None:
        raise TokenRefused(TOKEN_UNKNOWN)
    if not token.is_active:
        raise TokenRefused(TOKEN_REVOKED)
    if not token.user.is_active:
        raise TokenRefused(TOKEN_ACCOUNT_DISABLED)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
