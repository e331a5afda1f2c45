"""API tokens: the account page, the JSON API and the downloads with a token, the admin."""

import datetime as dt
import hashlib
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.datasets import dataset_create
from bandersnatch.models import ApiToken
from bandersnatch.tokens import (
    MAX_ACTIVE_PER_USER,
    TOKEN_ACCOUNT_DISABLED,
    TOKEN_REVOKED,
    TOKEN_UNKNOWN,
    TOO_MANY_TOKENS,
    api_token_create,
)
from ml.services import model_version_train

pytestmark = pytest.mark.django_db

ACCOUNT = reverse("account")
LOGIN = reverse("login")
CSV = "rooms,city,price\n" + "\n".join(
    f"{1 + i % 7},{'Ayr Bude Cork'.split()[i % 3]},{50 * (1 + i % 7) + i % 5}" for i in range(120)
)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def secrets(people):
    """A token for each of the owner, the other user and staff."""
    return {who: api_token_create(user=user, name=f"{who}'s script")[1] for who, user in people.items()}


@pytest.fixture
def houses(people):
    """A private dataset of the owner's."""
    file = io.BytesIO(CSV.encode())
    file.name = "houses.csv"
    return dataset_create(file=file, name="Houses", owner=people["owner"])


@pytest.fixture
def houses_model(houses):
    return model_version_train(dataset=houses, seed=0)


def problem(response) -> str:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["message"]


class TestAccountPage:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get(ACCOUNT)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={ACCOUNT}"

    def test_the_page_links_the_password_change_and_offers_a_token(self, client, people):
        client.force_login(people["owner"])
        response = client.get(ACCOUNT)
        assert response.status_code == 200
        content = response.content.decode()
        assert f'href="{reverse("password_change")}"' in content
        assert 'name="name"' in content and "No tokens yet." in content
        assert "<style" not in content and "style=" not in content and "<script>" not in content

    def test_a_new_token_is_shown_once_and_stored_hashed(self, client, people):
        client.force_login(people["owner"])
        response = client.post(ACCOUNT, {"name": "  nightly export  "})
        assert response.status_code == 200
        secret = response.context["new_secret"]
        assert secret.startswith("bs_") and len(secret) == 46
        assert f'<code class="token-secret">{secret}</code>' in response.content.decode()
        token = ApiToken.objects.get()
        assert (token.user, token.name, token.prefix) == (people["owner"], "nightly export", secret[:11])
        assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
        again = client.get(ACCOUNT).content.decode()
        assert secret not in again
        assert f"{secret[:11]}…" in again and "nightly export" in again and "never" in again

    def test_the_page_lists_only_your_own_tokens(self, client, people, secrets):
        client.force_login(people["owner"])
        tokens = client.get(ACCOUNT).context["tokens"]
        assert [token.name for token in tokens] == ["owner's script"]

    @pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}])
    def test_a_missing_or_too_long_name_makes_nothing(self, client, people, data):
        client.force_login(people["owner"])
        response = client.post(ACCOUNT, data)
        assert response.status_code == 400
        assert "name" in response.context["form"].errors
        assert response.context["new_secret"] is None
        assert not ApiToken.objects.exists()

    def test_the_number_of_active_tokens_is_capped(self, client, people):
        for n in range(MAX_ACTIVE_PER_USER):
            api_token_create(user=people["owner"], name=f"t{n}")
        client.force_login(people["owner"])
        response = client.post(ACCOUNT, {"name": "one more"})
        assert response.status_code == 400
        assert response.context["form"].non_field_errors() == [TOO_MANY_TOKENS]
        assert ApiToken.objects.count() == MAX_ACTIVE_PER_USER

    def test_making_a_token_needs_the_pages_csrf_token(self, people):
        client = Client(enforce_csrf_checks=True)
        client.force_login(people["owner"])
        assert client.post(ACCOUNT, {"name": "x"}).status_code == 403
        assert not ApiToken.objects.exists()

    def test_revoke_your_own_token(self, client, people, secrets):
        client.force_login(people["owner"])
        token = ApiToken.objects.get(user=people["owner"])
        response = client.post(reverse("api-token-revoke", args=[token.pk]))
        assert response.status_code == 302 and response["Location"] == ACCOUNT
        token.refresh_from_db()
        assert token.revoked_at is not None
        content = client.get(ACCOUNT).content.decode()
        assert f"Revoked the token owner&#x27;s script ({token.prefix}…)" in content
        assert "revoked" in content

    def test_another_users_token_cannot_be_revoked_nor_seen(self, client, people, secrets):
        client.force_login(people["other"])
        token = ApiToken.objects.get(user=people["owner"])
        assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
        assert client.post(reverse("api-token-revoke", args=[999_999])).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_revoking_is_a_post_by_a_signed_in_user(self, client, people, secrets):
        token = ApiToken.objects.get(user=people["owner"])
        assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 302  # to sign in
        client.force_login(people["owner"])
        assert client.get(reverse("api-token-revoke", args=[token.pk])).status_code == 405
        token.refresh_from_db()
        assert token.revoked_at is None


class TestApiWithAToken:
    def test_the_tokens_user_is_the_callers_user(self, client, houses, secrets):
        def slugs(**headers):
            response = client.get("/api/datasets", **headers)
            assert response.status_code == 200
            return {dataset["slug"] for dataset in response.json()}

        assert "houses" not in slugs()  # anonymous
        assert "houses" not in slugs(**bearer(secrets["other"]))
        assert "houses" in slugs(**bearer(secrets["owner"]))
        assert "houses" in slugs(**bearer(secrets["staff"]))

    @pytest.mark.parametrize(("who", "status"), [(None, 404), ("other", 404), ("owner", 200), ("staff", 200)])
    def test_a_private_datasets_version_is_refused_to_other_tokens(
        self, client, houses_model, secrets, who, status
    ):
        headers = bearer(secrets[who]) if who else {}
        assert client.get(f"/api/models/{houses_model.version}", **headers).status_code == status
        assert client.get("/api/datasets/houses/rows", **headers).status_code == status

    def test_an_unknown_token_is_a_401_naming_the_problem(self, client, secrets):
        for secret in ("bs_not-a-real-token", "", secrets["owner"] + "x"):
            response = client.get("/api/datasets", **bearer(secret))
            assert response.status_code == 401
            assert problem(response) == TOKEN_UNKNOWN
            assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    def test_a_revoked_token_is_a_401_saying_so(self, client, people, secrets):
        ApiToken.objects.filter(user=people["owner"]).update(revoked_at=timezone.now())
        response = client.get("/api/datasets", **bearer(secrets["owner"]))
        assert response.status_code == 401
        assert problem(response) == TOKEN_REVOKED

    def test_a_disabled_accounts_token_is_a_401(self, client, people, secrets):
        people["owner"].is_active = False
        people["owner"].save()
        response = client.get("/api/datasets", **bearer(secrets["owner"]))
        assert (response.status_code, problem(response)) == (401, TOKEN_ACCOUNT_DISABLED)

    def test_another_scheme_is_no_token(self, client, secrets):
        assert client.get("/api/datasets", HTTP_AUTHORIZATION="Basic b3duZXI6cHc=").status_code == 200

    def test_the_last_use_is_noted_at_most_once_a_minute(self, client, people, secrets):
        token = ApiToken.objects.get(user=people["owner"])
        assert token.last_used_at is None
        client.get("/api/datasets", **bearer(secrets["owner"]))
        token.refresh_from_db()
        first = token.last_used_at
        assert first is not None
        client.get("/api/datasets", **bearer(secrets["owner"]))
        token.refresh_from_db()
        assert token.last_used_at == first
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
        client.get("/api/datasets", **bearer(secrets["owner"]))
        token.refresh_from_db()
        assert token.last_used_at > first


class TestCsrf:
    """A token needs no CSRF token (no cookie is involved); a signed-in session still does."""

    @pytest.fixture
    def prediction_id(self, trained_version):
        response = Client().post(
            "/api/predict",
            {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0},
            content_type="application/json",
        )
        return response.json()["id"]

    def feedback(self, client, prediction_id, **extra):
        url = f"/api/predictions/{prediction_id}/feedback"
        return client.post(url, {"correct": True}, content_type="application/json", **extra)

    def test_a_token_changes_things_without_csrf(self, people, secrets, prediction_id):
        client = Client(enforce_csrf_checks=True)
        response = self.feedback(client, prediction_id, **bearer(secrets["other"]))
        assert response.status_code == 200, response.content
        assert not client.cookies  # and no session was made
        from ml.models import PredictionLog

        assert PredictionLog.objects.get().feedback_by == people["other"]

    def test_a_session_without_the_csrf_token_is_refused(self, people, prediction_id):
        client = Client(enforce_csrf_checks=True)
        client.force_login(people["other"])
        response = self.feedback(client, prediction_id)
        assert response.status_code == 403
        assert problem(response).startswith("CSRF check failed")

    def test_a_session_with_the_csrf_token_goes_through(self, people, prediction_id):
        client = Client(enforce_csrf_checks=True)
        client.force_login(people["other"])
        client.get(ACCOUNT)  # a page with a form sets the cookie
        response = self.feedback(client, prediction_id, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
        assert response.status_code == 200

    def test_anonymous_predictions_need_no_csrf(self, trained_version):
        client = Client(enforce_csrf_checks=True)
        body = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
        assert client.post("/api/predict", body, content_type="application/json").status_code == 200


class TestDownloadsWithAToken:
    @pytest.mark.parametrize(("who", "status"), [("other", 404), ("owner", 200), ("staff", 200)])
    def test_a_private_datasets_export_and_version_follow_the_tokens_user(
        self, client, houses_model, secrets, who, status
    ):
        export = client.get(reverse("analytics:dataset-export", args=["houses"]), **bearer(secrets[who]))
        assert export.status_code == status
        version = client.get(
            reverse("ml:download-version", args=[houses_model.version]), **bearer(secrets[who])
        )
        assert version.status_code == status
        card = client.get(reverse("ml:card", args=[houses_model.version]), **bearer(secrets[who]))
        assert card.status_code == status
        if status == 200:
            assert b"".join(export.streaming_content).decode().startswith("id,rooms,city,price\r\n1,1,Ayr,50")
            assert version["X-Model-SHA256"] == houses_model.sha256

    def test_anonymous_visitors_are_still_sent_to_sign_in(self, client, houses_model):
        urls = [
            reverse("analytics:dataset-export", args=["houses"]),
            reverse("ml:download-version", args=[houses_model.version]),
            reverse("ml:download"),
            reverse("monsters:export"),
        ]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(f"{LOGIN}?next=")

    def test_a_script_fetches_the_active_model_and_the_monsters(self, client, trained_version, secrets):
        model = client.get(reverse("ml:download"), **bearer(secrets["other"]))
        assert model.status_code == 200
        assert model["X-Model-Version"] == str(trained_version.version)
        monsters = client.get(reverse("monsters:export"), {"type": "Fey"}, **bearer(secrets["other"]))
        assert monsters.status_code == 200
        lines = b"".join(monsters.streaming_content).decode().splitlines()
        assert lines[0].startswith("name,type,level")
        assert len(lines) > 1 and all(",Fey," in line for line in lines[1:])

    def test_a_bad_token_is_a_401_not_the_sign_in_page(self, client, people, secrets):
        ApiToken.objects.filter(user=people["owner"]).update(revoked_at=timezone.now())
        for secret, message in ((secrets["owner"], TOKEN_REVOKED), ("bs_nope", TOKEN_UNKNOWN)):
            response = client.get(reverse("monsters:export"), **bearer(secret))
            assert response.status_code == 401
            assert problem(response) == message
            assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    def test_a_token_signs_no_one_in(self, client, secrets):
        client.get(reverse("monsters:export"), **bearer(secrets["owner"]))
        assert client.get(ACCOUNT).status_code == 302
        assert "sessionid" not in client.cookies


class TestAdmin:
    def test_staff_see_the_prefix_and_owner_never_the_secret(self, people, secrets, django_user_model):
        keeper = django_user_model.objects.create_superuser("keeper", "keeper@example.com", "pw")
        client = Client()
        client.force_login(keeper)
        token = ApiToken.objects.get(user=people["owner"])
        for url in (
            reverse("admin:bandersnatch_apitoken_changelist"),
            reverse("admin:bandersnatch_apitoken_change", args=[token.pk]),
        ):
            content = client.get(url).content.decode()
            assert f"{token.prefix}…" in content and "owner" in content
            for secret in secrets.values():
                assert secret not in content
            assert token.secret_sha256 not in content

    def test_staff_revoke_any_token(self, people, secrets, django_user_model):
        keeper = django_user_model.objects.create_superuser("keeper", "keeper@example.com", "pw")
        client = Client()
        client.force_login(keeper)
        owner_token = ApiToken.objects.get(user=people["owner"])
        response = client.post(
            reverse("admin:bandersnatch_apitoken_changelist"),
            {"action": "revoke", "_selected_action": [owner_token.pk]},
        )
        assert response.status_code == 302
        assert list(ApiToken.objects.exclude(revoked_at=None)) == [owner_token]
        assert Client().get("/api/datasets", **bearer(secrets["owner"])).status_code == 401
        assert Client().get("/api/datasets", **bearer(secrets["other"])).status_code == 200

    def test_staff_filter_tokens_by_state(self, people, secrets, django_user_model):
        keeper = django_user_model.objects.create_superuser("keeper", "keeper@example.com", "pw")
        client = Client()
        client.force_login(keeper)
        revoked = ApiToken.objects.get(user=people["owner"])
        ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
        listed = reverse("admin:bandersnatch_apitoken_changelist")
        shown = {
            state: {token.pk for token in client.get(listed, {"state": state}).context["cl"].result_list}
            for state in ("active", "revoked")
        }
        assert shown["revoked"] == {revoked.pk}
        assert shown["active"] == set(ApiToken.objects.exclude(pk=revoked.pk).values_list("pk", flat=True))
        assert shown["active"]  # the other user's token

    def test_tokens_are_not_made_nor_deleted_in_the_admin(self, people, secrets, django_user_model):
        keeper = django_user_model.objects.create_superuser("keeper", "keeper@example.com", "pw")
        client = Client()
        client.force_login(keeper)
        assert client.get(reverse("admin:bandersnatch_apitoken_add")).status_code == 403
        token = ApiToken.objects.get(user=people["owner"])
        assert client.get(reverse("admin:bandersnatch_apitoken_delete", args=[token.pk])).status_code == 403

    def test_plain_users_cannot_open_it(self, client, people):
        client.force_login(people["other"])
        assert client.get(reverse("admin:bandersnatch_apitoken_changelist")).status_code == 403


def test_the_openapi_schema_offers_the_token_and_says_it_is_optional(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {"BearerToken": {"type": "http", "scheme": "bearer"}}
    assert schema["paths"]["/api/datasets"]["get"]["security"] == [{"BearerToken": []}, {}]
