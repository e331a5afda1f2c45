"""Error pages in the site's look: the navigation, what happened, and a way on."""

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django.views import defaults

pytestmark = pytest.mark.django_db


def boom(request) -> HttpResponse:
    raise ValueError("a fault of ours")


# A URLconf for these tests: the site's own, and one view that fails.
urlpatterns = [path("boom/", boom), path("", include("bandersnatch.urls"))]
handler500 = "bandersnatch.views.server_error"


def in_the_site_look(content: str) -> bool:
    return 'class="site-header"' in content and "Datasets</a>" in content


def test_a_missing_page_is_a_404_in_the_site_look_with_ways_on(client):
    response = client.get("/no-such-page/")
    content = response.content.decode()
    assert response.status_code == 404 and in_the_site_look(content)
    assert "Nothing here" in content and "/no-such-page/" in content and 'href="/datasets/"' in content


def test_a_plain_user_on_a_staff_page_is_told_why(client):
    client.force_login(User.objects.create_user("plain"))
    response = client.get("/ops/")
    content = response.content.decode()
    assert response.status_code == 403 and in_the_site_look(content)
    assert "You are signed in as plain" in content and "Staff only." in content


def test_an_anonymous_403_offers_sign_in_and_comes_back():
    """Staff pages send anonymous visitors to sign in; any other refusal offers it."""
    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    response = defaults.permission_denied(request, PermissionDenied())
    content = response.content.decode()
    assert response.status_code == 403 and "Sign in</a>" in content and "?next=/somewhere/" in content


def test_a_request_for_another_host_is_a_400_in_the_site_look(client):
    response = client.get("/", HTTP_HOST="elsewhere.example")
    content = response.content.decode()
    assert response.status_code == 400 and in_the_site_look(content)
    assert "That request cannot be read" in content


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_fault_is_a_500_in_the_site_look():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    content = response.content.decode()
    assert response.status_code == 500 and in_the_site_look(content)
    assert "Something went wrong on our side" in content and "a fault of ours" not in content
