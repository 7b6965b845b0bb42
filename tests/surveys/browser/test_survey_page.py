"""An emailed NPS link opened in a real browser: the page records nothing
until the customer submits, asks why after a low score, and works once."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from helpdesk.tickets.models import AgentRole, TicketChannel, TicketStatus
from helpdesk.tickets.services import ticket_set_status
from surveys import tasks
from surveys.models import FollowUp, SurveyKind, SurveyPolicy, SurveyResponse
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.surveys.conftest import run_enqueued

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__pwned=1">'


def emailed_link(base: str) -> str:
    shop, _ = make_shop("demo")
    team = make_team("logistics")
    agent = make_agent("lena", teams=(team,))
    make_agent("tal", role=AgentRole.TEAM_LEAD, teams=(team,))
    customer = make_customer(shop, name="Dana Cohen", email="dana@example.com")
    SurveyPolicy.objects.create(name="Email NPS", channel=TicketChannel.EMAIL, kind=SurveyKind.NPS)
    ticket = make_ticket(customer, team, subject="Tent arrived torn", channel=TicketChannel.EMAIL)
    ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
    run_enqueued(tasks.survey_send)
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/survey/" in line)
    return base + link[link.index("/survey/") :].strip()


def test_a_customer_answers_an_emailed_nps_link(desk_server, page, settings):
    link = emailed_link(desk_server)

    page.goto(link)
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    expect(page.get_by_text("Tent arrived torn")).to_be_visible()
    page.reload()  # a second look, like a mail scanner's
    assert not SurveyResponse.objects.exists()

    reason_box = page.locator("#reason")
    expect(reason_box).to_be_hidden()
    page.get_by_role("radio", name="9", exact=True).check()
    expect(reason_box).to_be_hidden()
    page.get_by_role("radio", name="3", exact=True).check()
    expect(reason_box).to_be_visible()
    page.get_by_role("radio", name="It took too long").check()
    page.get_by_label("Tell us more").fill("Two weeks for an answer")
    page.get_by_label("Anything else you would like to tell us?").fill(f"Sorry {XSS}")
    assert not SurveyResponse.objects.exists()

    page.get_by_role("button", name="Send my answer").click()

    expect(page.get_by_text("Your answer has been recorded.")).to_be_visible()
    expect(page.get_by_text("Someone from our team will get back to you")).to_be_visible()
    response = SurveyResponse.objects.get()
    assert (response.score, response.reason, response.reason_text) == (3, "slow", "Two weeks for an answer")
    assert response.comment == f"Sorry {XSS}"
    follow_up = FollowUp.objects.select_related("ticket__assignee__user").get()
    assert follow_up.ticket.assignee is not None and follow_up.ticket.assignee.user.username == "tal"

    page.goto(link)
    expect(page.get_by_text("This survey was already answered.")).to_be_visible()
    assert SurveyResponse.objects.count() == 1


def test_the_form_works_without_javascript(desk_server, browser):
    link = emailed_link(desk_server)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(link)
        # Without the script the reason box is shown, labelled for low scores only.
        expect(page.get_by_text("only if you gave 0 to 6")).to_be_visible()
        page.get_by_role("radio", name="10", exact=True).check()
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_text("Your answer has been recorded.")).to_be_visible()
    finally:
        context.close()
    assert SurveyResponse.objects.get().score == 10
    assert not FollowUp.objects.exists()
