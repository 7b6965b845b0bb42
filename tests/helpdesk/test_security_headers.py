"""Every kind of page and endpoint carries the security headers, and the
Content-Security-Policy allows no inline script anywhere; the templates keep to
that (no inline <script>, no on*= handler, no inline style)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from chat.services import widget_session_start
from helpdesk.customers.models import Customer, Shop
from helpdesk.security import ContentSecurityPolicyMiddleware
from helpdesk.tickets.models import Agent, Team, Ticket, TicketChannel
from surveys.models import SurveyKind, SurveyPolicy
from tests.factories import make_shop, make_ticket
from tests.surveys.conftest import email_survey

ROOT = Path(__file__).resolve().parents[2]
SHOP_ORIGIN = "https://shop.example"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_secure_headers(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'self'" in policy["script-src"]


def signed_in(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


@pytest.fixture
def ticket(customer: Customer, logistics: Team) -> Ticket:
    return make_ticket(customer, logistics, subject="Parcel late")


@pytest.fixture
def survey_token(customer: Customer, logistics: Team, logistics_agent: Agent) -> str:
    SurveyPolicy.objects.create(name="Email NPS", channel=TicketChannel.EMAIL, kind=SurveyKind.NPS)
    email_ticket = make_ticket(customer, logistics, channel=TicketChannel.EMAIL)
    return email_survey(email_ticket, logistics_agent)[1]


def test_desk_pages_carry_the_headers(logistics_agent, ticket, manager):
    agent = signed_in(logistics_agent)
    for url in ["/inbox/", f"/desk/tickets/{ticket.pk}/", "/inbox/rows/", "/"]:
        response = agent.get(url)
        assert response.status_code == 200, url
        assert_secure_headers(response)

    response = signed_in(manager).get("/reports/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_the_policy_is_strict_on_desk_pages(logistics_agent):
    response = signed_in(logistics_agent).get("/inbox/")

    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    # The desk's own socket, named for browsers whose 'self' does not cover ws:.
    assert policy["connect-src"] == ["'self'", "ws://testserver"]


def test_over_https_the_socket_source_is_wss(logistics_agent):
    response = signed_in(logistics_agent).get("/inbox/", secure=True)

    assert "wss://testserver" in directives(response)["connect-src"]


def test_login_and_admin_carry_the_headers(manager):
    assert_secure_headers(Client().get("/admin/login/"))
    manager.user.is_staff = True
    manager.user.save()
    response = signed_in(manager).get("/admin/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_the_survey_form_carries_the_headers(survey_token):
    response = Client().get(f"/survey/{survey_token}/")

    assert response.status_code == 200
    assert_secure_headers(response)
    assert directives(response)["form-action"] == ["'self'"]


def test_widget_endpoints_carry_the_headers(settings, shop: Shop):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]
    session = Client().post(
        "/widget/v1/session",
        json.dumps({"shop": shop.slug}),
        content_type="application/json",
        headers={"Origin": SHOP_ORIGIN},
    )
    assert session.status_code == 200
    assert_secure_headers(session)

    visitor_token = widget_session_start(shop=shop).visitor_token
    surveys = Client().post(
        "/widget/v1/surveys/",
        json.dumps({"visitor_token": visitor_token}),
        content_type="application/json",
        headers={"Origin": SHOP_ORIGIN},
    )
    assert surveys.status_code == 200
    assert_secure_headers(surveys)


def test_the_api_and_its_docs_carry_the_headers(logistics_agent, ticket):
    agent = signed_in(logistics_agent)
    listing = agent.get("/api/v1/tickets/")
    assert listing.status_code == 200
    assert_secure_headers(listing)
    assert_secure_headers(Client().get("/api/v1/tickets/"))  # 401

    docs = agent.get("/api/docs/")
    assert docs.status_code == 200
    assert_secure_headers(docs)
    # Swagger UI's start-up script is a file on the desk, not inline.
    assert "<script>" not in docs.content.decode()
    assert agent.get("/api/docs/?script").status_code == 200


def test_the_browsable_api_may_style_attributes_but_not_run_inline_script(logistics_agent):
    response = signed_in(logistics_agent).get("/api/v1/tickets/", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert_secure_headers(response)
    assert directives(response)["style-src-attr"] == ["'unsafe-inline'"]


def test_error_pages_and_health_carry_the_headers(db):
    assert_secure_headers(Client().get("/no-such-page/"))
    assert_secure_headers(Client().get("/healthz"))


def test_the_demo_shop_allows_the_widget_from_the_desk_origin(settings, db):
    settings.DEMO_SHOP_PAGE = True
    make_shop("demo")

    response = Client().get("/demo/shop/", HTTP_HOST="localhost:8000")

    assert response.status_code == 200
    assert_secure_headers(response)
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8000"]
    assert {"http://127.0.0.1:8000", "ws://127.0.0.1:8000"} <= set(policy["connect-src"])
    assert "http://127.0.0.1:8000" in policy["img-src"]
    assert policy["style-src"] == ["'self'"]  # the widget's styles are a constructed stylesheet


def test_a_response_with_its_own_policy_keeps_it():
    # Attachments send a sandbox policy of their own (helpdesk/tickets/views.py).
    def view(request):
        response = HttpResponse("file")
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    response = ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/attachments/1/"))

    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


# -- templates ---------------------------------------------------------------------------

SKIP = {".venv", "node_modules", "staticfiles", ".git", ".mypy_cache", ".ruff_cache"}
TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
# A JSON data block is not script; anything else without src= is.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def project_templates() -> list[Path]:
    found: list[Path] = []
    for folder in ROOT.rglob("templates"):
        if folder.is_dir() and not SKIP.intersection(folder.relative_to(ROOT).parts):
            found.extend(folder.rglob("*.html"))
    return sorted(found)


def test_the_template_scan_finds_every_templates_folder():
    folders = {path.relative_to(ROOT).parts[0] for path in project_templates()}

    assert {"frontend", "surveys"} <= folders


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_handlers_or_inline_style(path: Path):
    text = path.read_text()

    assert not INLINE_SCRIPT.findall(text), "move the script into a static file"
    handlers = [tag for tag in TAG.findall(text) if HANDLER.search(tag)]
    assert not handlers, "attach the handler from a static script"
    assert "javascript:" not in text.lower()
    assert "<style" not in text and "style=" not in text, "move the style into a stylesheet"
