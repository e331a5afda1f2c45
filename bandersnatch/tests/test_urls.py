"""One spelling per page: every page ends with a slash, the other spelling redirects to it."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Endpoints that answer a file or JSON, not a page: named like the file they give.
NOT_PAGES = {
    "data/export.csv",
    "datasets/<slug:slug>/export.csv",
    "view/figure",
    "datasets/<slug:slug>/view/figure",
    "data/names",
    "datasets/<slug:slug>/suggestions",
    "model/download",
    "model/versions/<int:number>/download",
    "model/versions/<int:number>/card.json",
    "ops/jobs/<uuid:pk>/status",
    "metrics",  # Prometheus's text, at the address scrapers expect
}


def _routes(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route in ("admin/", "api/"):  # Django's admin and ninja keep their own style
                continue
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def test_every_page_route_ends_with_a_slash():
    routes = [route for route in _routes(get_resolver()) if route not in NOT_PAGES]
    assert routes, "no routes found"
    assert [route for route in routes if route and not route.endswith("/")] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "without_slash",
    ["/data?type=Fey&sort=-health", "/view?kind=box&x=type", "/model?level=3", "/analytics", "/ops",
     "/model/versions", "/model/versions/compare?a=1&b=2", "/monsters/7", "/accounts/login?next=/data/"],
)  # fmt: skip
def test_the_spelling_without_the_slash_redirects_permanently_keeping_the_query(client, without_slash):
    path, _, query = without_slash.partition("?")
    response = client.get(without_slash)
    assert response.status_code == 301
    assert response["Location"] == f"{path}/" + (f"?{query}" if query else "")
