from __future__ import annotations

from django.core.management import call_command


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any view spectacular cannot describe into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/tickets/{id}/reply/:" in schema
    assert "/api/v1/shop/sync/:" in schema


def test_the_schema_and_the_docs_page_are_served_without_signing_in(anonymous_client):
    schema = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = anonymous_client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/v1/customers/{id}/" in schema.json()["paths"]
    assert docs.status_code == 200
    # Swagger UI comes from the sidecar's static files, so the page works offline.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content.decode()
