"""Accounts: sign up with an email and a password, reset a forgotten password, the account page.

The email, lower-cased, is also the username, so Django's own sign-in form and
views (and django-axes' throttle on them) work unchanged for these accounts.
Sign-up and the reset request are limited per IP and email address
(bandersnatch.throttles).  The account page makes and revokes API tokens.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordMixin
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import tasks
from .models import ApiToken
from .throttles import account_page_limited
from .tokens import api_token_create, api_tokens_revoke

User = get_user_model()

EMAIL_TAKEN = "An account with this email address already exists."
EMAIL_CHARACTERS = "Use an email address made of letters, digits and the characters . @ + - _ only."


def email_is_taken(email: str) -> bool:
    """Either field counts: older accounts may have a username that is an email."""
    return User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()


def account_create(*, email: str, password: str) -> User:
    """A plain (never staff) account whose username is its lower-cased email.

    The username's unique constraint settles two sign-ups racing for one email.
    """
    email = email.lower()
    try:
        with transaction.atomic():
            return User.objects.create_user(username=email, email=email, password=password)
    except IntegrityError as error:
        raise ValidationError(EMAIL_TAKEN, code="taken") from error


class SignInForm(AuthenticationForm):
    """Django's sign-in, where an email is matched in any case (accounts store it lower-cased)."""

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        return username.lower() if "@" in username else username


sign_in = LoginView.as_view(authentication_form=SignInForm)


class SignupForm(SetPasswordMixin, forms.Form):
    # No longer than a username, as the email becomes one.
    email = forms.EmailField(
        max_length=User._meta.get_field("username").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        try:
            User.username_validator(email)
        except ValidationError as error:
            raise ValidationError(EMAIL_CHARACTERS, code="invalid") from error
        if email_is_taken(email):
            raise ValidationError(EMAIL_TAKEN, code="taken")
        return email

    def clean(self) -> dict:
        self.validate_passwords()
        # An unsaved user, so the similarity validator can compare with the email.
        email = self.cleaned_data.get("email", "")
        self.validate_password_for_user(User(username=email, email=email))
        return super().clean()


def _safe_next(request: HttpRequest, url: str) -> str | None:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else None


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
@account_page_limited("signup")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("monsters:home")
    next_url = request.POST.get("next") or request.GET.get("next", "")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user = account_create(email=form.cleaned_data["email"], password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error("email", error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Bandersnatch: you are signed in as {user.email}.")
            # Not redirect(): a relative `next` such as "data" would be taken for a URL name.
            return HttpResponseRedirect(_safe_next(request, next_url) or reverse("monsters:home"))
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


# Password reset ------------------------------------------------------------------


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset request, whose mail a background job looks up, writes and sends.

    The page then answers alike, and as fast, whether the address has an
    account or not: finding the account and talking to the mail server would
    show in the time taken.  The job's row holds the address, never the link.
    """

    def save(self, *, use_https: bool = False, request: HttpRequest | None = None, **kwargs) -> None:
        tasks.password_reset_mail_send.enqueue(
            email=self.cleaned_data["email"], domain=request.get_host(), use_https=use_https
        )


password_reset = account_page_limited("password-reset")(
    PasswordResetView.as_view(form_class=PasswordResetRequestForm)
)


# The account page and its API tokens ---------------------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        strip=True,
        help_text="What it is for, e.g. the script that uses it.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. nightly export", "autocomplete": "off"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """Your account: the password, and the API tokens your scripts use (a new one's secret shown once)."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_secret = None
    if form.is_valid():
        try:
            _, new_secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    context = {"form": form, "tokens": tokens, "new_secret": new_secret}
    # Rendered, not redirected: the secret is never stored, not even in the session.
    return render(request, "accounts/account.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens (anyone else's is a 404, as if it did not exist)."""
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    if api_tokens_revoke(tokens=ApiToken.objects.filter(pk=token.pk), actor=request.user):
        messages.success(request, f"Revoked the token {token}: scripts using it are refused from now on.")
    return redirect("account")
