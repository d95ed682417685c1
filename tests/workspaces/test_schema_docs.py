import pytest

pytestmark = pytest.mark.django_db


def test_schema_declares_the_three_key_headers(client):
    response = client.get("/api/schema", {"format": "json"})

    assert response.status_code == 200
    schemes = response.json()["components"]["securitySchemes"]
    headers = {s.get("name") for s in schemes.values() if s["type"] == "apiKey"}
    assert {"x-flowla-api-key", "api-secret"} <= headers
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_docs_page_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
