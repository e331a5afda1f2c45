"""Request limits: the JSON API per address and per token, sign-up per IP and email address.

The counts live in Django's cache, which every test starts empty (conftest),
and the clock django-ratelimit reads is frozen here, so no count window ends
in the middle of a test.
"""

import types

import pytest
from django.core.cache import cache
from django.urls import reverse

from bandersnatch.models import ApiToken
from bandersnatch.throttles import describe_rate
from bandersnatch.tokens import api_token_create

pytestmark = pytest.mark.django_db

DATASETS = "/api/datasets"
OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """django-ratelimit's clock, stopped; `clock[0] += seconds` moves it on."""
    import django_ratelimit.core

    now = [1_800_000_000.0]
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def secret(people):
    return api_token_create(user=people["owner"], name="script")[1]


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def statuses(client, url, times, **extra):
    return [client.get(url, **extra).status_code for _ in range(times)]


class TestApiPerAddress:
    def test_past_the_limit_a_429_with_retry_after(self, client, settings):
        settings.API_THROTTLE_ANON = "3/m"
        assert statuses(client, DATASETS, 3) == [200, 200, 200]
        response = client.get(DATASETS)
        assert response.status_code == 429
        assert response["Content-Type"].startswith("application/json")
        wait = int(response["Retry-After"])
        assert 1 <= wait <= 60
        message = f"Too many requests: 3 a minute from your address without a token. Try again in {wait} s."
        assert response.json() == {"message": message}

    def test_the_limit_lifts_when_its_window_ends(self, client, settings, clock):
        settings.API_THROTTLE_ANON = "2/m"
        statuses(client, DATASETS, 2)
        response = client.get(DATASETS)
        assert response.status_code == 429
        clock[0] += int(response["Retry-After"])
        assert client.get(DATASETS).status_code == 200

    def test_each_address_counts_alone(self, client, settings):
        settings.API_THROTTLE_ANON = "2/m"
        assert statuses(client, DATASETS, 3) == [200, 200, 429]
        assert statuses(client, DATASETS, 2, **OTHER_ADDRESS) == [200, 200]

    def test_every_endpoint_and_method_counts(self, client, settings, trained_version):
        settings.API_THROTTLE_ANON = "2/m"
        body = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
        assert client.post("/api/predict", body, content_type="application/json").status_code == 200
        assert client.get("/api/monsters").status_code == 200
        response = client.post("/api/predict", body, content_type="application/json")
        assert response.status_code == 429
        assert "Retry-After" in response

    def test_a_signed_in_browser_counts_by_its_address(self, client, settings, people):
        settings.API_THROTTLE_ANON = "2/m"
        client.force_login(people["other"])
        assert statuses(client, DATASETS, 3) == [200, 200, 429]

    def test_off_never_refuses(self, client, settings):
        settings.API_THROTTLE_ANON = None  # API_THROTTLE_ANON=off
        assert set(statuses(client, DATASETS, 40)) == {200}


class TestApiPerToken:
    def test_past_the_limit_a_429_naming_the_token(self, client, settings, secret):
        settings.API_THROTTLE_TOKEN = "2/h"
        assert statuses(client, DATASETS, 2, **bearer(secret)) == [200, 200]
        response = client.get(DATASETS, **bearer(secret))
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 3600
        assert "2 an hour from this token" in response.json()["message"]

    def test_each_token_counts_alone_even_for_one_user(self, client, settings, people, secret):
        settings.API_THROTTLE_TOKEN = "2/m"
        second = api_token_create(user=people["owner"], name="another script")[1]
        assert statuses(client, DATASETS, 3, **bearer(secret)) == [200, 200, 429]
        assert statuses(client, DATASETS, 2, **bearer(second)) == [200, 200]

    def test_tokens_and_addresses_count_apart(self, client, settings, secret):
        settings.API_THROTTLE_TOKEN = "2/m"
        settings.API_THROTTLE_ANON = "3/m"
        assert statuses(client, DATASETS, 3, **bearer(secret)) == [200, 200, 429]
        assert statuses(client, DATASETS, 4) == [200, 200, 200, 429]  # the same address, no token
        settings.API_THROTTLE_TOKEN = None
        assert set(statuses(client, DATASETS, 10, **bearer(secret))) == {200}

    def test_a_bad_token_is_refused_before_it_is_counted(self, client, settings):
        settings.API_THROTTLE_ANON = "1/m"
        assert statuses(client, DATASETS, 3, **bearer("bs_unknown")) == [401, 401, 401]
        assert client.get(DATASETS).status_code == 200

    def test_a_revoked_token_is_401_not_429(self, client, settings, secret):
        settings.API_THROTTLE_TOKEN = "1/m"
        statuses(client, DATASETS, 2, **bearer(secret))
        ApiToken.objects.update(revoked_at="2026-01-01T00:00Z")
        assert client.get(DATASETS, **bearer(secret)).status_code == 401


class TestHealthIsNeverLimited:
    @pytest.mark.parametrize("url", ["/api/live", "/api/health", "/api/models/1/health"])
    def test_health_endpoints_answer_past_any_limit_and_count_nothing(
        self, client, settings, trained_version, secret, url
    ):
        settings.API_THROTTLE_ANON = settings.API_THROTTLE_TOKEN = "1/m"
        assert set(statuses(client, url, 10)) == {200}
        assert set(statuses(client, url, 10, **bearer(secret))) == {200}
        assert client.get(DATASETS).status_code == 200  # its one call is still there
        assert client.get(DATASETS, **bearer(secret)).status_code == 200


class TestCacheTrouble:
    def test_a_cache_that_fails_lets_the_api_answer(self, client, settings, monkeypatch, caplog):
        settings.API_THROTTLE_ANON = "1/m"

        def broken(*args, **kwargs):
            raise ConnectionError("cache down")

        monkeypatch.setattr(cache, "add", broken)
        assert statuses(client, DATASETS, 3) == [200, 200, 200]
        assert "Could not count a request for the api-ip limit" in caplog.text


class TestSignUp:
    def signup(self, client, email, **extra):
        data = {"email": email, "password1": "grey-otter-lantern-42", "password2": "grey-otter-lantern-42"}
        return client.post(reverse("signup"), data, **extra)

    def test_past_the_limit_per_email_a_429_page(self, client, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = "2/h"
        self.signup(client, "ada@example.com")
        client.logout()
        assert self.signup(client, "ADA@example.com").status_code == 200  # taken: a form error
        response = self.signup(client, "ada@example.com")
        assert response.status_code == 429
        assert "registration/throttled.html" in [t.name for t in response.templates]
        assert "Try again in" in response.content.decode()
        assert 1 <= int(response["Retry-After"]) <= 3600

    def test_past_the_limit_per_ip_every_address_waits(self, client, settings, django_user_model):
        settings.ACCOUNT_THROTTLE_IP = "2/h"
        for n in range(2):
            assert self.signup(client, f"user{n}@example.com").status_code == 302
            client.logout()
        assert self.signup(client, "late@example.com").status_code == 429
        assert self.signup(client, "late@example.com", **OTHER_ADDRESS).status_code == 302
        assert django_user_model.objects.count() == 3

    def test_off_never_refuses(self, client, settings):
        settings.ACCOUNT_THROTTLE_EMAIL = settings.ACCOUNT_THROTTLE_IP = None
        assert {self.signup(client, "").status_code for _ in range(25)} == {200}


@pytest.mark.parametrize(
    ("rate", "words"),
    [("600/m", "600 a minute"), ("10/5m", "10 per 5 minutes"), ("1/d", "1 a day"), ("5/h", "5 an hour")],
)
def test_rates_read_as_words(rate, words):
    assert describe_rate(rate) == words
