"""The reports page in headless Chromium, on real numbers: tickets of two
teams, answered by agents and surveyed, all through the desk's services. A
manager reads the figures and charts, narrows them to a team (the address
follows), drills down from a bar to the inbox listing exactly its tickets,
downloads the CSV, and meets the API's errors by the controls."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from helpdesk.tickets.models import AgentRole, TicketChannel, TicketStatus
from helpdesk.tickets.services import ticket_reply, ticket_set_status
from surveys.models import Survey, SurveyKind, SurveyPolicy
from surveys.services import survey_answer
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def desk(transactional_db) -> dict[str, Any]:
    """Logistics: three chat tickets (CSAT 5, 4, 2) and an email one; returns:
    two chat tickets (CSAT 5, 5). Every ticket answered by its team's agent,
    the chat ones solved, which opens their survey in the widget; the 2 opens
    a follow-up ticket (email, logistics): seven tickets in all."""
    shop, _ = make_shop("acme")
    logistics, returns = make_team("logistics"), make_team("returns")
    lena = make_agent("lena", teams=(logistics,))
    rami = make_agent("rami", teams=(returns,))
    # The desk ships a chat policy; make sure it surveys every solved chat ticket at once.
    SurveyPolicy.objects.update_or_create(
        team=None,
        channel=TicketChannel.CHAT,
        defaults={"kind": SurveyKind.CSAT, "delay_minutes": 0, "sampling_percent": 100, "active": True},
    )
    tickets: dict[str, list[int]] = {"logistics_chat": [], "returns_chat": [], "logistics_email": []}
    plan = [
        (logistics, lena, TicketChannel.CHAT, 5),
        (logistics, lena, TicketChannel.CHAT, 4),
        (logistics, lena, TicketChannel.CHAT, 2),
        (logistics, lena, TicketChannel.EMAIL, None),
        (returns, rami, TicketChannel.CHAT, 5),
        (returns, rami, TicketChannel.CHAT, 5),
    ]
    for n, (team, agent, channel, score) in enumerate(plan):
        # One customer each: a customer is surveyed at most once in the cooldown.
        customer = make_customer(shop, name=f"Customer {n}")
        ticket = make_ticket(customer, team, subject=f"Question {n}", channel=channel)
        ticket_reply(ticket=ticket, agent=agent, body="Looking into it.")
        tickets[f"{team.slug}_{channel}"].append(ticket.pk)
        if score is not None:
            ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
            survey_answer(survey=Survey.objects.get(ticket=ticket), score=score)
    manager = make_agent("maya", role=AgentRole.MANAGER)
    return {"manager": manager, "tickets": tickets}


def section(page: Page, name: str):
    return page.get_by_test_id(f"report-{name}")


def figure_value(page: Page, report: str, key: str):
    return section(page, report).locator(f'[data-testid="figure"][data-key="{key}"] [data-testid="figure-value"]')


def bar(page: Page, report: str, chart: str, key: str):
    return section(page, report).locator(f'[data-chart="{chart}"] [data-testid="chart-bar"][data-key="{key}"]')


def all_ready(page: Page, query: str = "") -> None:
    """Every section shows what the API sent for ``query`` (a part of it)."""
    for name in ("satisfaction", "speed", "volume", "people", "retention"):
        expect(section(page, name)).to_have_attribute("data-state", "ready")
        if query:
            expect(section(page, name)).to_have_attribute("data-query", re.compile(re.escape(query)))


def test_a_manager_reads_narrows_to_a_team_and_drills_down_to_the_tickets(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["manager"])
    page.goto(desk_server + "/reports/")
    all_ready(page)

    # Figures and charts with the desk's numbers.
    expect(figure_value(page, "volume", "tickets")).to_have_text("7")
    expect(figure_value(page, "satisfaction", "follow_ups_opened")).to_have_text("1")
    expect(figure_value(page, "satisfaction", "csat")).to_have_text("80%")
    assert page.locator('[data-testid="chart-bar"]').count() > 0
    assert page.locator('[data-testid="chart-point"]').count() > 0
    expect(bar(page, "volume", "by_channel", "chat")).to_have_attribute("aria-label", "Chat: 5 tickets")
    expect(bar(page, "volume", "by_channel", "email")).to_have_attribute("aria-label", "Email: 2 tickets")

    # A team: the figures follow, and so does the address.
    page.get_by_label("Team", exact=True).select_option("logistics")
    all_ready(page, "team=logistics")
    expect(page).to_have_url(re.compile(r"/reports/\?.*team=logistics"))
    expect(figure_value(page, "volume", "tickets")).to_have_text("5")
    expect(figure_value(page, "satisfaction", "csat")).to_have_text("66.7%")
    expect(bar(page, "volume", "by_channel", "chat")).to_have_attribute("aria-label", "Chat: 3 tickets")

    # A reload keeps the view.
    page.reload()
    all_ready(page, "team=logistics")
    expect(page.get_by_label("Team", exact=True)).to_have_value("logistics")
    expect(figure_value(page, "volume", "tickets")).to_have_text("5")

    # Keyboard only: the bar takes focus, Enter opens the inbox on exactly its tickets.
    chat = bar(page, "volume", "by_channel", "chat")
    chat.focus()
    expect(chat).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox/\?.*team=logistics.*channel=chat"))
    listed = page.get_by_test_id("ticket-row")
    expect(listed).to_have_count(3)
    ids = {int(i) for i in listed.evaluate_all("rows => rows.map(r => r.dataset.ticketId)")}
    assert ids == set(desk["tickets"]["logistics_chat"])

    # A figure card opens its tickets too: the CSAT answers of logistics.
    page.go_back()
    all_ready(page, "team=logistics")
    section(page, "satisfaction").locator('[data-testid="figure"][data-key="csat"] a').click()
    expect(page).to_have_url(re.compile(r"/inbox/\?.*survey_kind=csat"))
    expect(page.get_by_test_id("ticket-row")).to_have_count(3)


def test_the_csv_download_holds_the_figures_shown(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["manager"])
    page.goto(desk_server + "/reports/?team=returns")
    all_ready(page, "team=returns")
    expect(figure_value(page, "satisfaction", "csat")).to_have_text("100%")

    with page.expect_download() as info:
        section(page, "satisfaction").get_by_test_id("csv-link").click()
    download = info.value

    assert re.fullmatch(r"satisfaction-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    csat = next(row for row in rows if row["part"] == "figure" and row["key"] == "csat")
    assert float(csat["value"]) == 100.0
    assert csat["count"] == "2"
    assert "team=returns" in csat["tickets"]


def test_a_period_the_api_refuses_shows_its_error_by_the_control(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["manager"])
    page.goto(desk_server + "/reports/")
    all_ready(page)

    page.get_by_label("From", exact=True).fill("2030-01-01")
    page.get_by_test_id("apply-filters").click()

    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    error = page.locator('[data-testid="field-error"][data-for="from"]')
    expect(error).to_have_text("The period starts after it ends.")
    expect(section(page, "volume")).to_have_attribute("data-state", "invalid")
    expect(section(page, "volume").get_by_test_id("csv-link")).to_be_hidden()

    # Fixed, the reports come back and the error goes.
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-12-31")
    page.get_by_test_id("apply-filters").click()
    all_ready(page, "from=2020-01-01")
    expect(error).to_be_hidden()
    expect(figure_value(page, "volume", "tickets")).to_have_text("0")
    expect(figure_value(page, "satisfaction", "csat")).to_have_text("No data")


def test_a_report_that_fails_to_load_says_so_and_can_be_retried(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["manager"])
    failures = {"left": 1}

    def speed(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=500, content_type="application/json", body="{}")
        else:
            route.continue_()

    page.route("**/api/v1/reports/speed/*", speed)
    page.goto(desk_server + "/reports/")

    expect(section(page, "speed")).to_have_attribute("data-state", "error")
    expect(section(page, "speed")).to_contain_text("could not be loaded (HTTP 500)")
    expect(section(page, "volume")).to_have_attribute("data-state", "ready")
    section(page, "speed").get_by_role("button", name="Try again").click()
    expect(section(page, "speed")).to_have_attribute("data-state", "ready")
    expect(section(page, "speed").get_by_test_id("figure").first).to_be_visible()


def test_the_reports_page_has_no_serious_accessibility_violations(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["manager"])
    page.goto(desk_server + "/reports/")
    all_ready(page)
    # The numbers under the charts, opened, are checked too.
    for summary in page.locator(".chart-numbers summary").all()[:3]:
        summary.click()

    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]

    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(n['target'][0] for n in v['nodes'][:3])}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
