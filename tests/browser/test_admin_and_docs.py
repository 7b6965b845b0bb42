"""A new user signs in as a demo agent and finds the demo shop in the admin and the API docs."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from helpdesk.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/admin/")


def test_a_logistics_agent_browses_the_demo_shop_in_the_admin(desk_server, page):
    call_command("seed_demo", "--allow-known-passwords", verbosity=0)

    sign_in(page, desk_server, "alice")
    shot(page, "admin-index")
    page.get_by_role("link", name="Tickets", exact=True).click()
    page.wait_for_url("**/admin/tickets/ticket/")
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    assert rows.count() > 0
    assert "Logistics" in page.locator("#result_list").inner_text()
    assert "Returns" not in page.locator("#result_list tbody td.field-team").all_inner_texts()
    shot(page, "admin-tickets")

    rows.first.locator("th a").click()
    page.locator("#messages-group").wait_for()
    assert page.locator("#messages-group").is_visible()
    assert page.locator("#messages-group tbody tr").count() >= 1
    shot(page, "admin-ticket")

    page.goto(desk_server + "/admin/customers/order/")
    assert page.locator("#result_list tbody tr").count() > 0
    page.locator("#result_list tbody tr th a").first.click()
    page.locator("#items-group").wait_for()
    assert page.locator("#items-group tbody tr").count() >= 1
    shot(page, "admin-order")


def test_api_docs_work_offline_for_a_signed_in_agent(desk_server, page):
    call_command("seed_demo", "--allow-known-passwords", verbosity=0)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(desk_server) else None)

    sign_in(page, desk_server, "manager")
    page.goto(desk_server + "/api/docs/")
    page.get_by_text("/api/v1/tickets/").first.wait_for()
    shot(page, "api-docs")
    answer = page.evaluate("fetch('/api/v1/tickets/?status=solved').then(r => r.json())")

    assert external == []
    assert len(answer["results"]) > 0
    assert {t["status"] for t in answer["results"]} == {"solved"}
