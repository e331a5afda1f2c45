"""Request limits for the JSON API and the account pages, counted in Django's cache.

django-ratelimit does the counting: a fixed window per key, started with
cache.add and counted with cache.incr, which Redis does atomically, so the
counts hold across processes and hosts when CACHE_URL is Redis (with the
default local memory cache each process counts on its own).  The rates are
settings (API_THROTTLE_*, ACCOUNT_THROTTLE_*), read per request; None is off.

The API uses django-ninja's throttle hook but not its rate throttles: those
keep a list of every call's time per key, read and written back whole, so
two processes at once lose calls, and each call moves hundreds of entries.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from ninja.throttling import BaseThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)

PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
ARTICLES = {"s": "a", "m": "a", "h": "an", "d": "a"}


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds until the window that refused ends
    message: str


def client_address(request: HttpRequest) -> str:
    """The caller's IP address, as django-axes reads it for sign-in: one rule for every limit.

    (RATELIMIT_IP_META_KEY names this function.)  A server on a Unix socket
    may give no address: such callers then share one count.
    """
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or "0.0.0.0"


def describe_rate(rate: str) -> str:
    """`600/m` as "600 a minute", `10/5m` as "10 per 5 minutes"."""
    count, multiple, unit = re.fullmatch(r"(\d+)/(\d*)([smhd])", rate).groups()
    if multiple and multiple != "1":
        return f"{count} per {multiple} {PERIODS[unit]}s"
    return f"{count} {ARTICLES[unit]} {PERIODS[unit]}"


def count_request(request: HttpRequest, *, group: str, key, rate: str | None) -> int | None:
    """Count this request against `rate` under `key`; the seconds to wait when over it, else None.

    `key` is django-ratelimit's: "ip", or a function of (group, request).
    When the cache cannot be reached the request goes through, with a
    warning: a limit must not take the site down with the cache.
    """
    if rate is None:
        return None
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    except Exception:
        logger.warning("Could not count a request for the %s limit; letting it through", group, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    # The window still counts at its last second (time_left 0): the next one starts a second later.
    return usage["time_left"] + 1


# The JSON API --------------------------------------------------------------------


def _token_id(group: str, request: HttpRequest) -> str:
    return str(request.auth.pk)


class ApiThrottle(BaseThrottle):
    """Token holders per token (API_THROTTLE_TOKEN), everyone else per IP address (API_THROTTLE_ANON).

    One instance serves every thread, so the refusal is kept on the request,
    where the Throttled handler (bandersnatch.api) finds it for the message
    and the Retry-After header; wait() stays None for ninja.
    """

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            rate, who = settings.API_THROTTLE_TOKEN, "this token"
            wait = count_request(request, group="api-token", key=_token_id, rate=rate)
        else:
            rate, who = settings.API_THROTTLE_ANON, "your address without a token"
            wait = count_request(request, group="api-ip", key="ip", rate=rate)
        if wait is None:
            return True
        request.throttle_refusal = Refusal(
            wait, f"Too many requests: {describe_rate(rate)} from {who}. Try again in {wait} s."
        )
        logger.info("API request refused, over %s from %s", rate, who)
        return False


# Sign-up and password reset --------------------------------------------------------


def _email_asked_for(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


def _account_request_wait(request: HttpRequest, group: str) -> int | None:
    """Count one request per IP address and per email address asked for; the longer wait if over."""
    waits = [count_request(request, group=f"{group}-ip", key="ip", rate=settings.ACCOUNT_THROTTLE_IP)]
    if _email_asked_for(group, request):
        rate = settings.ACCOUNT_THROTTLE_EMAIL
        waits.append(count_request(request, group=f"{group}-email", key=_email_asked_for, rate=rate))
    return max((wait for wait in waits if wait is not None), default=None)


def account_page_limited(group: str):
    """Count every POST to the page per IP address and per email address it asks for; a 429 page past either.

    The answer is the same whether the address has an account or not, so the
    limit tells nothing about accounts.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            wait = _account_request_wait(request, group) if request.method == "POST" else None
            if wait is not None:
                logger.warning("%s refused: too many requests from %s", group, client_address(request))
                return throttled_page(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def throttled_page(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = math.ceil(retry_after / 60)
    response = render(request, "registration/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
