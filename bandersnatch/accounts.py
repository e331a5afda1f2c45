"""Sign up with an email address and a password.

The email, lower-cased, is also the username, so Django's own sign-in form and
views (and django-axes' throttle on them) work unchanged for these accounts.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

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
