"""Password reset by email: the pages, the mail (read from the test outbox), the limits, no leaks."""

import re

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from bandersnatch.accounts import account_create
from bandersnatch.tests.test_jobs import run_worker

pytestmark = pytest.mark.django_db

PASSWORD = "grey-otter-lantern-42"
NEW_PASSWORD = "amber-heron-81-quay"
RESET = reverse("password_reset")
DONE = reverse("password_reset_done")
LOGIN = reverse("login")
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def ada():
    return account_create(email="ada@example.com", password=PASSWORD)


def ask_for_reset(client, email, **extra):
    response = client.post(RESET, {"email": email}, **extra)
    run_worker()  # the mail is written and sent by a background job
    return response


def link_in(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def sign_in(client, password):
    return client.post(LOGIN, {"username": "ada@example.com", "password": password, "next": "/"})


class TestPages:
    def test_the_sign_in_page_offers_the_reset(self, client):
        content = client.get(LOGIN).content.decode()
        assert f'<a href="{RESET}">Forgot your password?</a>' in content

    def test_the_request_page_asks_for_an_email_in_the_site_look(self, client):
        response = client.get(RESET)
        assert response.status_code == 200
        assert [t.name for t in response.templates][:2] == [
            "registration/password_reset_form.html",
            "base.html",
        ]
        content = response.content.decode()
        assert 'name="email"' in content and "csrfmiddlewaretoken" in content
        assert "<style" not in content and "style=" not in content
        assert "<script>" not in content  # no inline scripts: a Content-Security-Policy forbids them

    def test_every_reset_page_extends_the_site_base(self, client, ada):
        urls = [RESET, DONE, reverse("password_reset_complete"), "/accounts/reset/x/y-z/"]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "base.html" in [t.name for t in response.templates], url


class TestReset:
    def test_a_reset_from_the_mail_to_signing_in_with_the_new_password(self, client, ada):
        response = ask_for_reset(client, "ada@example.com")
        assert response.status_code == 302
        assert response["Location"] == DONE
        assert "Check your email" in client.get(DONE).content.decode()

        [message] = mail.outbox
        assert message.to == ["ada@example.com"]
        assert message.subject == "Reset your Bandersnatch password"
        assert message.from_email == "Bandersnatch <bandersnatch@localhost>"
        assert "ada@example.com" in message.body

        response = client.get(link_in(message))  # Django swaps the token for a session key
        assert response.status_code == 302
        form_url = response["Location"]
        assert "Choose a new password" in client.get(form_url).content.decode()
        response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == reverse("password_reset_complete")
        assert not get_user(client).is_authenticated  # signing in is the next step

        assert sign_in(client, PASSWORD).status_code == 200  # the old one no longer works
        assert sign_in(client, NEW_PASSWORD).status_code == 302
        assert get_user(client) == ada

    def test_the_link_works_once(self, client, ada):
        ask_for_reset(client, "ada@example.com")
        link = link_in(mail.outbox[0])
        form_url = client.get(link)["Location"]
        client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        response = client.get(link, follow=True)
        assert "This link does not work" in response.content.decode()

    def test_the_address_matches_in_any_case(self, client, ada):
        ask_for_reset(client, "ADA@Example.COM")
        assert [message.to for message in mail.outbox] == [["ada@example.com"]]

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, client, ada):
        known = ask_for_reset(client, "ada@example.com")
        unknown = ask_for_reset(client, "nobody@example.com")
        assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
        assert [message.to for message in mail.outbox] == [["ada@example.com"]]

    def test_disabled_accounts_and_accounts_without_a_password_get_no_mail(self, client, django_user_model):
        django_user_model.objects.create_user("off@example.com", "off@example.com", PASSWORD, is_active=False)
        django_user_model.objects.create_user("nopass@example.com", "nopass@example.com")
        for email in ("off@example.com", "nopass@example.com"):
            assert ask_for_reset(client, email)["Location"] == DONE
        assert mail.outbox == []

    def test_the_queued_job_holds_the_address_never_the_link(self, client, ada):
        client.post(RESET, {"email": "ada@example.com"})
        [job] = DBTaskResult.objects.all()
        assert job.args_kwargs["kwargs"] == {
            "email": "ada@example.com",
            "domain": "testserver",
            "use_https": False,
        }
        assert mail.outbox == []  # not sent in the request
        run_worker()
        assert len(mail.outbox) == 1

    @pytest.mark.parametrize("email", ["", "not-an-email", "a" * 250 + "@example.com"])
    def test_a_bad_address_is_a_form_error_and_queues_nothing(self, client, ada, email):
        response = client.post(RESET, {"email": email})
        assert response.status_code == 200
        assert "email" in response.context["form"].errors
        assert not DBTaskResult.objects.exists()

    def test_a_made_up_link_is_refused(self, client, ada):
        response = client.get("/accounts/reset/MQ/abc-0123456789abcdef/", follow=True)
        assert "This link does not work" in response.content.decode()
        assert f'href="{RESET}"' in response.content.decode()

    @pytest.mark.parametrize(
        ("first", "second", "field"),
        [
            (NEW_PASSWORD, NEW_PASSWORD + "x", "new_password2"),
            ("short1", "short1", "new_password2"),
            ("", "", "new_password1"),
        ],
    )
    def test_a_bad_new_password_changes_nothing(self, client, ada, first, second, field):
        ask_for_reset(client, "ada@example.com")
        form_url = client.get(link_in(mail.outbox[0]))["Location"]
        response = client.post(form_url, {"new_password1": first, "new_password2": second})
        assert response.status_code == 200
        assert field in response.context["form"].errors
        ada.refresh_from_db()
        assert ada.check_password(PASSWORD)


class TestLimits:
    """Reset requests count per email address asked for and per IP address, alike for unknown addresses."""

    def test_past_the_limit_per_email_a_429_page_and_no_mail(self, client, ada, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = "2/h"
        for _ in range(2):
            assert ask_for_reset(client, "ada@example.com").status_code == 302
        response = ask_for_reset(client, "Ada@Example.com")  # the same address in another case
        assert response.status_code == 429
        assert "registration/throttled.html" in [t.name for t in response.templates]
        assert "Too many requests" in response.content.decode()
        assert 1 <= int(response["Retry-After"]) <= 3600
        assert len(mail.outbox) == 2

    def test_an_unknown_address_is_limited_alike(self, client, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = "2/h"
        statuses = [ask_for_reset(client, "nobody@example.com").status_code for _ in range(3)]
        assert statuses == [302, 302, 429]

    def test_another_address_from_the_same_ip_goes_on(self, client, ada, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = "1/h"
        ask_for_reset(client, "nobody@example.com")
        assert ask_for_reset(client, "nobody@example.com").status_code == 429
        assert ask_for_reset(client, "ada@example.com").status_code == 302
        assert len(mail.outbox) == 1

    def test_past_the_limit_per_ip_every_address_waits(self, client, ada, settings):
        settings.ACCOUNT_THROTTLE_IP = "3/h"
        for n in range(3):
            assert ask_for_reset(client, f"someone{n}@example.com").status_code == 302
        assert ask_for_reset(client, "ada@example.com").status_code == 429
        assert ask_for_reset(client, "ada@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302
        assert len(mail.outbox) == 1

    def test_off_turns_a_limit_off(self, client, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = settings.ACCOUNT_THROTTLE_IP = None  # "off"
        assert {client.post(RESET, {"email": "x@example.com"}).status_code for _ in range(30)} == {302}

    def test_reading_the_page_is_not_counted(self, client, settings):
        settings.ACCOUNT_THROTTLE_IP = "1/h"
        assert {client.get(RESET).status_code for _ in range(5)} == {200}
