"""The CSAT survey inside the chat widget, end to end: an agent solves a chat
on the desk, the customer answers on the shop's page, and the agents see the
answer in the customer panel."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from helpdesk.tickets.models import Agent, AgentRole, Ticket, TicketChannel
from surveys.models import FollowUp, SurveyKind, SurveyPolicy, SurveyResponse
from tests.browser.shop import shop_desk_env, shot, write_shop_page
from tests.factories import make_agent, make_shop, make_team

pytestmark = pytest.mark.browser

THANKS = "Thank you! We're glad we could help."
XSS = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def desk_server_env(shop_site) -> dict[str, str]:
    return shop_desk_env(shop_site, SURVEY_THANKS_MESSAGE=THANKS)


@pytest.fixture
def agent(transactional_db) -> Agent:
    """Lena of the general team, where widget chats open; Tal leads it."""
    make_shop("demo")
    team = make_team("general")
    make_agent("tal", role=AgentRole.TEAM_LEAD, teams=(team,))
    # Transactional tests flush the migration's default policy: the same one again.
    SurveyPolicy.objects.get_or_create(
        team=None, channel=TicketChannel.CHAT, defaults={"name": "Chats: CSAT right away", "kind": SurveyKind.CSAT}
    )
    return make_agent("lena", teams=(team,))


def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not become true in time")
        time.sleep(0.1)


def chat_then_solve(page: Page, desk: Page, base: str, shop_url: str, name: str = "Noa Levi") -> Ticket:
    """The customer writes on the shop's page; the agent solves the chat on its ticket page."""
    desk.goto(base + "/inbox/")  # the agent's open desk makes the desk "online": a chat, not an email
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    page.goto(shop_url + "/index.html")
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("prechat-name").fill(name)
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    page.get_by_test_id("composer").fill("My tent arrived torn.")
    page.get_by_test_id("composer").press("Enter")
    expect(page.locator('[data-testid="message"][data-author="customer"]')).to_have_attribute("data-seq", "1")
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.CHAT

    desk.goto(f"{base}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("conversation")).to_contain_text("My tent arrived torn.")
    desk.get_by_test_id("ticket-status").select_option("solved")
    eventually(lambda: Ticket.objects.get(pk=ticket.pk).status == "solved")
    return ticket


def test_a_low_csat_in_the_widget_opens_a_follow_up_and_the_agent_sees_it(
    desk_server, shop_site, shop_folder, agent, signed_in, page
):
    write_shop_page(shop_folder, desk_server)
    desk = signed_in(desk_server, agent)
    ticket = chat_then_solve(page, desk, desk_server, shop_site.url)

    # The survey appears inside the chat window, once.
    survey = page.get_by_test_id("survey")
    expect(survey).to_have_count(1)
    expect(survey.get_by_role("heading")).to_have_text("How would you rate the help you got?")
    expect(survey).to_contain_text("My tent arrived torn.")
    expect(desk.get_by_test_id("ticket-survey")).to_contain_text("CSAT sent")  # the agent's panel follows live

    # A score is needed; a low one asks what went wrong.
    reasons = survey.get_by_test_id("survey-reasons")
    expect(reasons).to_be_hidden()
    survey.get_by_role("button", name="Send answer").click()
    expect(survey).to_contain_text("Choose a face first.")
    survey.get_by_role("button", name="4 \N{EN DASH} happy").click()
    expect(reasons).to_be_hidden()
    unhappy = survey.get_by_role("button", name="2 \N{EN DASH} unhappy")
    unhappy.click()
    expect(unhappy).to_have_attribute("aria-pressed", "true")
    expect(reasons).to_be_visible()
    survey.get_by_label("What went wrong?").select_option(label="It took too long")
    survey.get_by_label("Tell us more (optional)").fill("Three days without an answer")
    survey.get_by_label("Anything else you'd like to tell us? (optional)").fill(f"Please hurry {XSS}")
    shot(page, "widget-survey-low")
    survey.get_by_role("button", name="Send answer").click()

    result = survey.get_by_test_id("survey-result")
    expect(result).to_have_text("Thank you for telling us. Someone from our team will get back to you.")
    expect(result).to_be_focused()
    expect(survey.get_by_role("button", name="Send answer")).to_be_hidden()

    response = SurveyResponse.objects.get()
    assert (response.score, response.reason, response.reason_text) == (2, "slow", "Three days without an answer")
    assert response.comment == f"Please hurry {XSS}"
    follow_up = FollowUp.objects.select_related("ticket__assignee__user").get()
    assert follow_up.survey.ticket_id == ticket.pk
    assert follow_up.ticket.assignee is not None and follow_up.ticket.assignee.user.username == "tal"

    # The agent's panel shows the answer without a reload, linked to the follow-up.
    own = desk.get_by_test_id("ticket-survey")
    expect(own).to_contain_text("CSAT 2/5")
    expect(own).to_contain_text("It took too long")
    expect(own.get_by_test_id("survey-comment")).to_have_text(f"Please hurry {XSS}")
    own.scroll_into_view_if_needed()
    shot(desk, "desk-survey-answer")
    own.get_by_test_id("survey-follow-up").click()

    # On the follow-up, the earlier answer and the past conversation's score.
    expect(desk).to_have_url(f"{desk_server}/desk/tickets/{follow_up.ticket_id}/")
    earlier = desk.get_by_test_id("survey-answer")
    expect(earlier).to_have_count(1)
    expect(earlier).to_contain_text("CSAT 2/5 · It took too long · Three days without an answer")
    expect(earlier.get_by_test_id("survey-comment")).to_have_text(f"Please hurry {XSS}")
    past = desk.locator(f'[data-testid="past-ticket"][data-ticket-id="{ticket.pk}"]')
    expect(past.get_by_test_id("past-survey")).to_have_text("CSAT 2/5")
    earlier.scroll_into_view_if_needed()
    shot(desk, "desk-survey-follow-up")
    assert desk.evaluate("window.__pwned") is None and page.evaluate("window.__pwned") is None


def test_a_happy_score_shows_the_thanks_on_a_right_to_left_page_by_keyboard(
    desk_server, shop_site, shop_folder, agent, signed_in, page
):
    write_shop_page(shop_folder, desk_server, root='lang="he" dir="rtl"')
    desk = signed_in(desk_server, agent)
    chat_then_solve(page, desk, desk_server, shop_site.url, name="נועה לוי")

    survey = page.get_by_test_id("survey")
    expect(survey).to_be_visible()
    # Mirrored: the unhappy face on the right, the happy one on the left.
    worst = survey.get_by_role("button", name="1 \N{EN DASH} very unhappy").bounding_box()
    best = survey.get_by_role("button", name="5 \N{EN DASH} very happy").bounding_box()
    assert worst["x"] > best["x"]

    survey.get_by_role("button", name="5 \N{EN DASH} very happy").focus()
    page.keyboard.press("Enter")
    expect(survey.get_by_role("button", name="5 \N{EN DASH} very happy")).to_have_attribute("aria-pressed", "true")
    expect(survey.get_by_test_id("survey-reasons")).to_be_hidden()
    survey.get_by_label("Anything else you'd like to tell us? (optional)").fill("מעולה, תודה")
    page.keyboard.press("Tab")
    expect(survey.get_by_role("button", name="Not now")).to_be_focused()
    page.keyboard.press("Tab")
    expect(survey.get_by_role("button", name="Send answer")).to_be_focused()
    page.keyboard.press("Enter")

    shot(page, "widget-survey-rtl")
    expect(survey.get_by_test_id("survey-result")).to_have_text(THANKS)
    shot(page, "widget-survey-thanks")
    assert SurveyResponse.objects.get().score == 5
    assert not FollowUp.objects.exists()

    # A reload shows no survey: it was answered.
    page.reload()
    page.get_by_test_id("launcher").click()
    expect(page.locator('[data-testid="message"][data-author="customer"]')).to_have_count(1)
    expect(page.get_by_test_id("survey")).to_have_count(0)


def test_writing_again_closes_the_survey_and_solving_again_brings_it_back(
    desk_server, shop_site, shop_folder, agent, signed_in, page
):
    write_shop_page(shop_folder, desk_server)
    desk = signed_in(desk_server, agent)
    ticket = chat_then_solve(page, desk, desk_server, shop_site.url)
    survey = page.get_by_test_id("survey")
    expect(survey.get_by_role("button", name="Send answer")).to_be_visible()

    composer = page.get_by_test_id("composer")
    composer.fill("Sorry, one more question")
    composer.press("Enter")

    expect(survey.get_by_test_id("survey-result")).to_have_text(
        "This conversation was reopened, so this survey is closed."
    )
    expect(survey.get_by_role("button", name="Send answer")).to_be_hidden()
    expect(composer).to_be_focused()
    expect(desk.get_by_test_id("ticket-survey")).to_contain_text("cancelled: the conversation was reopened")

    desk.get_by_test_id("ticket-status").select_option("solved")
    eventually(lambda: Ticket.objects.get(pk=ticket.pk).status == "solved")
    expect(survey.get_by_role("button", name="Send answer")).to_be_visible()
    expect(page.get_by_test_id("survey")).to_have_count(1)
