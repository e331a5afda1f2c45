"""Access rules for views: who may open what, signed in or with an API token."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from ninja.security import HttpBearer

from .models import ApiToken
from .tokens import TokenRefused, api_token_authenticate


def staff_required(view):
    """Staff only: anonymous visitors go to sign in, signed-in non-staff get 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapped


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: the token's user becomes the request's user.

    No session and no cookie, so no CSRF check either: another site cannot
    make a browser send this header.  Answers None without the header (then
    other rules apply) and raises TokenRefused for a token that will not do.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        api_token = api_token_authenticate(token)
        request.user = api_token.user
        return api_token


bearer_token = BearerToken()


def token_refused(exc: TokenRefused) -> JsonResponse:
    """401 JSON naming the problem, with the challenge RFC 6750 asks for."""
    response = JsonResponse({"message": str(exc)}, status=401)
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def login_or_token_required(view):
    """Signed in, or a script's API token acting as its user (downloads).

    A bad token answers 401 JSON rather than the sign-in page a script could
    not use; without a token, anonymous visitors go to sign in as before.
    """
    signed_in_view = login_required(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            token = bearer_token(request)
        except TokenRefused as exc:
            return token_refused(exc)
        if token is None:
            return signed_in_view(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return wrapped
