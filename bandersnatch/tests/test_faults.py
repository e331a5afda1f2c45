"""Faults and hostile input that once gave a 500: each answers a 4xx or 503 naming the problem."""

import pytest

pytestmark = pytest.mark.django_db
NESTED_1000_DEEP = "[" * 1_000 + "]" * 1_000  # 2 KB


def body_taking_operations(client, version: int) -> list[tuple[str, str]]:
    """(method, path) of every API operation that reads a body, path parameters filled in."""
    schema = client.get("/api/openapi.json").json()
    operations = []
    for path, methods in schema["paths"].items():
        for method in methods.keys() & {"post", "put", "patch"}:
            operations.append((method, path.replace("{number}", str(version))))
    return operations


class TestNestedJson:
    @pytest.mark.parametrize(
        "body",
        [NESTED_1000_DEEP, '{"level": ' + NESTED_1000_DEEP + "}", '{"instances": ' + NESTED_1000_DEEP + "}"],
        ids=["a list", "a field", "the instances"],
    )
    def test_every_endpoint_that_reads_a_body_answers_400(self, client, trained_version, body):
        operations = body_taking_operations(client, trained_version.version)
        assert ("post", "/api/predict") in operations
        assert ("post", f"/api/models/{trained_version.version}/predict") in operations
        for method, path in operations:
            response = getattr(client, method)(path, body, content_type="application/json")
            assert response.status_code == 400, path
            assert response.json() == {"message": "The body is nested too deeply to read."}, path

    def test_a_recursion_error_anywhere_in_the_api_is_a_400(self, client, trained_version, monkeypatch):
        def recursing(request, features):
            raise RecursionError("maximum recursion depth exceeded")

        monkeypatch.setattr("ml.api.parse_records", recursing)
        response = client.post("/api/predict", "{}", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"message": "The body is nested too deeply to read."}
