"""Accounts: sign up, sign in and out, password change and the sign-in throttle."""

import pytest
from django.contrib.auth import get_user
from django.contrib.auth.hashers import identify_hasher
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from bandersnatch.accounts import EMAIL_CHARACTERS, EMAIL_TAKEN, account_create

pytestmark = pytest.mark.django_db

PASSWORD = "grey-otter-lantern-42"
HOME = reverse("monsters:home")
SIGNUP = reverse("signup")
LOGIN = reverse("login")
LOGOUT = reverse("logout")
PASSWORD_CHANGE = reverse("password_change")


def signup_data(email="Ada@Example.com", password1=PASSWORD, password2=None, **extra) -> dict:
    return {"email": email, "password1": password1, "password2": password2 or password1, **extra}


def sign_in(client, username, password=PASSWORD, **extra):
    # The page's form always sends `next` (home unless another page was asked for).
    return client.post(LOGIN, {"username": username, "password": password, "next": HOME}, **extra)


def signed_in(client) -> bool:
    return get_user(client).is_authenticated


@pytest.fixture
def ada():
    return account_create(email="ada@example.com", password=PASSWORD)


@pytest.fixture
def grace():
    return account_create(email="grace@example.com", password=PASSWORD)


class TestSignUp:
    def test_the_page_offers_email_and_the_password_twice(self, client):
        response = client.get(SIGNUP, {"next": "/data/"})
        assert response.status_code == 200
        content = response.content.decode()
        for name in ("email", "password1", "password2", "csrfmiddlewaretoken"):
            assert f'name="{name}"' in content
        assert 'name="next" value="/data/"' in content
        assert f'href="{LOGIN}?next=/data/"' in content  # the navigation passes the page asked for on

    def test_creates_a_plain_signed_in_account_with_a_hashed_password(self, client, django_user_model):
        response = client.post(SIGNUP, signup_data(next="/data/?type=Fey"))
        assert response.status_code == 302
        assert response["Location"] == "/data/?type=Fey"
        user = django_user_model.objects.get()
        assert user.username == user.email == "ada@example.com"
        assert user.password.startswith(f"{identify_hasher(user.password).algorithm}$")
        assert PASSWORD not in user.password
        assert user.check_password(PASSWORD)
        assert not user.is_staff and not user.is_superuser
        assert get_user(client) == user
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            "Welcome to Bandersnatch: you are signed in as ada@example.com."
        ]

    @pytest.mark.parametrize(
        "next_url", ["", "https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
    )
    def test_an_unsafe_or_missing_next_goes_home(self, client, next_url):
        response = client.post(SIGNUP, signup_data(next=next_url))
        assert response.status_code == 302
        assert response["Location"] == HOME

    def test_a_relative_next_is_a_path_not_a_url_name(self, client):
        response = client.post(SIGNUP, signup_data(next="data"))
        assert response.status_code == 302
        assert response["Location"] == "data"

    def test_signed_in_visitors_are_sent_home(self, client, ada, django_user_model):
        client.force_login(ada)
        assert client.get(SIGNUP)["Location"] == HOME
        response = client.post(SIGNUP, signup_data(email="other@example.com"))
        assert response["Location"] == HOME
        assert django_user_model.objects.count() == 1

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            (signup_data(email="not-an-email"), "email"),
            (signup_data(email=""), "email"),
            (signup_data(email="a" * 140 + "@example.com"), "email"),  # longer than a username
            (signup_data(email="ada\x00@example.com"), "email"),
            (signup_data(password2="grey-otter-lantern-43"), "password2"),
            (signup_data(password1="x7#kQ"), "password2"),  # too short
            (signup_data(password1="password123"), "password2"),  # too common
            (signup_data(password1="83749201947561"), "password2"),  # all digits
            (signup_data(email="lanternfish@example.com", password1="lanternfish1"), "password2"),
            (signup_data(password1="", password2=""), "password1"),
            ({}, "email"),
        ],
    )
    def test_bad_input_shows_field_errors_and_creates_nothing(self, client, django_user_model, data, field):
        response = client.post(SIGNUP, data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert 'class="field invalid"' in response.content.decode()
        assert not django_user_model.objects.exists()
        assert not signed_in(client)

    def test_emails_with_characters_a_username_cannot_hold_are_refused(self, client, django_user_model):
        response = client.post(SIGNUP, signup_data(email="ada!lovelace@example.com"))
        assert response.context["form"].errors["email"] == [EMAIL_CHARACTERS]
        assert not django_user_model.objects.exists()

    @pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.COM"])
    def test_an_email_already_used_in_any_case_is_refused(self, client, ada, django_user_model, email):
        response = client.post(SIGNUP, signup_data(email=email))
        assert response.status_code == 200
        assert response.context["form"].errors["email"] == [EMAIL_TAKEN]
        assert django_user_model.objects.count() == 1
        assert not signed_in(client)

    def test_an_older_username_equal_to_the_email_counts_as_used(self, client, django_user_model):
        django_user_model.objects.create_user("Ada@Example.com", password=PASSWORD)
        response = client.post(SIGNUP, signup_data())
        assert response.context["form"].errors["email"] == [EMAIL_TAKEN]

    def test_the_database_settles_two_sign_ups_racing_for_one_email(self, ada):
        with pytest.raises(ValidationError) as raised:
            account_create(email="Ada@example.com", password=PASSWORD)
        assert raised.value.messages == [EMAIL_TAKEN]


class TestSignInAndOut:
    def test_the_sign_in_page_asks_for_email_or_username_and_returns_home(self, client):
        content = client.get(LOGIN).content.decode()
        assert "Email or username" in content
        assert f'name="next" value="{HOME}"' in content

    def test_sign_in_with_the_email(self, client, ada):
        response = client.post(LOGIN, {"username": "ada@example.com", "password": PASSWORD, "next": "/data/"})
        assert response.status_code == 302
        assert response["Location"] == "/data/"
        assert get_user(client) == ada

    def test_a_wrong_password_is_a_form_error(self, client, ada):
        response = sign_in(client, "ada@example.com", "not-the-password")
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
        assert not signed_in(client)

    def test_sign_out_by_post(self, client, ada):
        client.force_login(ada)
        response = client.post(LOGOUT, {"next": HOME})  # as the navigation's form sends it
        assert response.status_code == 302
        assert response["Location"] == HOME
        assert not signed_in(client)

    def test_sign_out_refuses_get(self, client, ada):
        client.force_login(ada)
        assert client.get(LOGOUT).status_code == 405
        assert signed_in(client)

    @pytest.mark.parametrize("url", [LOGIN, LOGOUT])
    def test_without_next_sign_in_and_out_go_home(self, client, ada, url):
        response = client.post(url, {"username": "ada@example.com", "password": PASSWORD})
        assert response["Location"] == HOME


class TestNavigation:
    def test_anonymous_visitors_get_sign_in_and_sign_up(self, client):
        content = client.get(reverse("monsters:data"), {"type": "Fey"}).content.decode()
        assert f'href="{LOGIN}?next=/data/%3Ftype%3DFey"' in content
        assert f'href="{SIGNUP}?next=/data/%3Ftype%3DFey"' in content
        assert "Sign out" not in content

    def test_signed_in_users_get_their_name_linked_to_their_account_and_sign_out(self, client, ada):
        client.force_login(ada)
        content = client.get(reverse("monsters:data")).content.decode()
        assert (
            f'href="{reverse("account")}" title="Your account: password and API tokens">ada@example.com</a>'
            in content
        )
        assert f'<form method="post" action="{LOGOUT}"' in content
        assert "csrfmiddlewaretoken" in content
        assert f'href="{SIGNUP}' not in content


class TestPasswordChange:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get(PASSWORD_CHANGE)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={PASSWORD_CHANGE}"

    def test_change_the_password_and_stay_signed_in(self, client, ada):
        client.force_login(ada)
        assert "Change password" in client.get(PASSWORD_CHANGE).content.decode()
        response = client.post(
            PASSWORD_CHANGE,
            {"old_password": PASSWORD, "new_password1": "amber-heron-81", "new_password2": "amber-heron-81"},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("password_change_done")
        ada.refresh_from_db()
        assert ada.check_password("amber-heron-81")
        assert signed_in(client)
        assert "Password changed" in client.get(response["Location"]).content.decode()

    def test_a_wrong_old_password_changes_nothing(self, client, ada):
        client.force_login(ada)
        response = client.post(
            PASSWORD_CHANGE,
            {"old_password": "wrong", "new_password1": "amber-heron-81", "new_password2": "amber-heron-81"},
        )
        assert response.status_code == 200
        assert "old_password" in response.context["form"].errors
        ada.refresh_from_db()
        assert ada.check_password(PASSWORD)

    def test_the_admin_password_change_renders_this_page_and_works(self, client, django_user_model):
        """The admin uses the same template name; the form posts back to the admin's own URL."""
        keeper = django_user_model.objects.create_user("keeper", password=PASSWORD, is_staff=True)
        client.force_login(keeper)
        url = reverse("admin:password_change")
        response = client.get(url)
        assert "registration/password_change_form.html" in [t.name for t in response.templates]
        assert '<form method="post">' in response.content.decode()
        new = {"old_password": PASSWORD, "new_password1": "amber-heron-81", "new_password2": "amber-heron-81"}
        response = client.post(url, new)
        assert response["Location"] == reverse("admin:password_change_done")
        keeper.refresh_from_db()
        assert keeper.check_password("amber-heron-81")


class TestSignInThrottle:
    def fail_five_times(self, client, username, url=LOGIN):
        for _ in range(5):
            response = client.post(url, {"username": username, "password": "wrong", "next": HOME})
            assert response.status_code in {200, 429}  # the fifth failure may already be refused

    def test_five_failures_lock_the_account_from_that_address(self, client, ada):
        self.fail_five_times(client, "ada@example.com")
        for _ in range(2):  # the right password, and still locked
            response = sign_in(client, "ada@example.com")
            assert response.status_code == 429
            assert "registration/locked_out.html" in [t.name for t in response.templates]
            content = " ".join(response.content.decode().split())
            assert "Sign-in paused" in content
            assert "paused for 15 minutes" in content
            assert "Traceback" not in content
            assert not signed_in(client)

    def test_another_account_from_the_same_address_is_not_locked(self, client, ada, grace):
        self.fail_five_times(client, "ada@example.com")
        response = sign_in(client, "grace@example.com")
        assert response.status_code == 302
        assert get_user(client) == grace

    def test_the_same_account_from_another_address_is_not_locked(self, client, ada):
        self.fail_five_times(client, "ada@example.com")
        response = sign_in(client, "ada@example.com", REMOTE_ADDR="203.0.113.9")
        assert response.status_code == 302

    def test_a_success_before_the_limit_starts_the_count_again(self, client, ada):
        for _ in range(2):
            for _ in range(4):
                assert sign_in(client, "ada@example.com", "wrong").status_code == 200
            assert sign_in(client, "ada@example.com").status_code == 302
            client.logout()

    def test_the_admin_sign_in_is_throttled_too(self, client, django_user_model):
        django_user_model.objects.create_user("keeper", password=PASSWORD, is_staff=True)
        self.fail_five_times(client, "keeper", url=reverse("admin:login"))
        response = client.post(reverse("admin:login"), {"username": "keeper", "password": PASSWORD})
        assert response.status_code == 429
        assert not signed_in(client)


class TestCsrf:
    def test_sign_up_without_a_token_is_refused(self, django_user_model):
        client = Client(enforce_csrf_checks=True)
        assert client.post(SIGNUP, signup_data()).status_code == 403
        assert not django_user_model.objects.exists()

    def test_sign_in_without_a_token_is_refused(self, ada):
        client = Client(enforce_csrf_checks=True)
        assert sign_in(client, "ada@example.com").status_code == 403
        assert not signed_in(client)

    def test_sign_up_with_the_page_token_works(self, django_user_model):
        client = Client(enforce_csrf_checks=True)
        client.get(SIGNUP)
        token = client.cookies["csrftoken"].value
        response = client.post(SIGNUP, signup_data(csrfmiddlewaretoken=token))
        assert response.status_code == 302
        assert django_user_model.objects.count() == 1


def test_an_email_signs_in_in_any_case(client, django_user_model):
    password = "correct horse battery"
    django_user_model.objects.create_user("ada@example.com", "ada@example.com", password)
    response = client.post(reverse("login"), {"username": "Ada@Example.COM", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("password_change")).status_code == 200
