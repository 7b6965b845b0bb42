"""The public survey page and the widget's survey endpoints: a GET records
nothing, only a deliberate POST does; refusals are clear and record nothing;
rate limits; answers are shown escaped."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from chat.services import widget_session_start
from helpdesk.tickets.models import AuthorKind, TicketChannel
from helpdesk.tickets.services import message_post
from surveys.models import Survey, SurveyResponse, SurveyStatus
from tests.factories import make_customer, make_ticket
from tests.surveys.conftest import email_survey, solve

SHOP_ORIGIN = "https://shop.example"


def page(token: str) -> str:
    return f"/survey/{token}/"


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def form_post(client: Client, token: str, **data: Any):
    shown = client.get(page(token))
    assert shown.status_code == 200
    return client.post(page(token), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **data})


@pytest.fixture
def emailed(email_ticket, logistics_agent, nps_by_email) -> tuple[Survey, str]:
    return email_survey(email_ticket, logistics_agent)


def test_opening_the_link_shows_the_form_and_records_nothing(emailed) -> None:
    survey, token = emailed
    client = Client()
    for _ in range(3):  # a mail scanner, a preview, the customer
        response = client.get(page(token))
        assert response.status_code == 200
    html = response.content.decode()
    assert "How likely are you to recommend" in html
    assert html.count('name="score"') == 11
    assert 'name="csrfmiddlewaretoken"' in html
    assert not SurveyResponse.objects.exists()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.PENDING


def test_only_a_submitted_form_records_the_answer_once(emailed) -> None:
    survey, token = emailed
    client = csrf_client()

    response = form_post(client, token, score="9", comment="Great <b>service</b>", survey=str(survey.pk))

    assert response.status_code == 200
    assert "Your answer has been recorded" in response.content.decode()
    assert SurveyResponse.objects.get().score == 9
    again = client.get(page(token))
    assert again.status_code == 410
    assert "already answered" in again.content.decode()
    second = client.post(page(token), {"score": "1"})
    assert second.status_code in (403, 410)
    assert SurveyResponse.objects.get().score == 9


def test_a_post_without_the_form_s_csrf_token_records_nothing(emailed) -> None:
    _, token = emailed
    response = csrf_client().post(page(token), {"score": "10"})
    assert response.status_code == 403
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("score", ["", "11", "-1", "ten", "5.5", "9; DROP TABLE"])
def test_a_bad_score_shows_the_form_again_with_an_error(emailed, score: str) -> None:
    _, token = emailed
    response = form_post(csrf_client(), token, score=score, comment="<i>kept</i>")
    assert response.status_code == 400
    html = response.content.decode()
    assert "score from 0 to 10" in html or "score is from 0 to 10" in html
    assert "&lt;i&gt;kept&lt;/i&gt;" in html and "<i>kept</i>" not in html
    assert not SurveyResponse.objects.exists()


def test_a_low_score_keeps_the_reason(emailed) -> None:
    _, token = emailed
    form_post(csrf_client(), token, score="3", reason="slow", reason_text="Two weeks!", comment="")
    response = SurveyResponse.objects.get()
    assert (response.score, response.reason, response.reason_text) == (3, "slow", "Two weeks!")


@pytest.mark.parametrize("token", ["nonsense", "1.abc:1tA:xyz", "a" * 300])
def test_an_invalid_link_is_a_clear_404(db, token: str) -> None:
    response = Client().get(page(token))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_expired_link_is_a_clear_410(emailed) -> None:
    survey, token = emailed
    with time_machine.travel(survey.expires_at + timedelta(minutes=1)):
        response = Client().get(page(token))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_link_for_a_reopened_ticket_is_closed(emailed, email_ticket) -> None:
    _, token = emailed
    message_post(ticket=email_ticket, author_kind=AuthorKind.CUSTOMER, body="Still waiting")
    response = Client().get(page(token))
    assert response.status_code == 410
    assert "reopened" in response.content.decode()


def test_a_form_naming_another_survey_records_nothing(emailed, customer, logistics, logistics_agent) -> None:
    survey, token = emailed
    response = form_post(csrf_client(), token, score="10", survey=str(survey.pk + 1))
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_a_link_whose_survey_row_has_another_token_is_invalid(emailed) -> None:
    survey, token = emailed
    Survey.objects.filter(pk=survey.pk).update(token_digest="0" * 64)
    assert Client().get(page(token)).status_code == 404


def test_per_ip_and_per_link_rate_limits(emailed, settings) -> None:
    _, token = emailed
    settings.SURVEY_RATE_LIMIT_PER_SURVEY = 3
    settings.SURVEY_RATE_LIMIT_PER_IP = 5
    client = Client()
    assert [client.get(page(token)).status_code for _ in range(4)] == [200, 200, 200, 429]
    # Guessing other links from the same address stops at the IP limit.
    assert client.get(page("guess-1")).status_code == 404
    assert client.get(page("guess-2")).status_code == 429
    assert Client(REMOTE_ADDR="198.51.100.7").get(page("guess-3")).status_code == 404


# The widget's endpoints


@pytest.fixture
def widget(settings, shop, logistics, logistics_agent):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]
    started = widget_session_start(shop=shop)
    ticket = make_ticket(started.visitor.customer, logistics, channel=TicketChannel.CHAT)
    solve(ticket, logistics_agent)
    return started.visitor_token, Survey.objects.get(ticket=ticket)


def widget_post(path: str, body: Any, origin: str = SHOP_ORIGIN):
    return Client().post(path, json.dumps(body), content_type="application/json", headers={"Origin": origin})


def test_the_widget_lists_its_open_surveys(widget) -> None:
    visitor_token, survey = widget
    response = widget_post("/widget/v1/surveys/", {"visitor_token": visitor_token})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    [item] = response.json()["surveys"]
    assert item["survey"] == survey.pk and item["kind"] == "csat" and item["scale"] == [1, 5]
    assert item["reason_scores"] == [1, 2]


def test_the_widget_answers_its_own_survey(widget, settings) -> None:
    settings.SURVEY_THANKS_MESSAGE = "Thank you!"
    visitor_token, survey = widget
    url = f"/widget/v1/surveys/{survey.pk}/answer"
    response = widget_post(url, {"visitor_token": visitor_token, "score": 5, "comment": "<b>fast</b>"})
    assert response.status_code == 200
    assert response.json() == {"answered": True, "thanks": "Thank you!"}
    assert SurveyResponse.objects.get().comment == "<b>fast</b>"
    twice = widget_post(url, {"visitor_token": visitor_token, "score": 1})
    assert twice.status_code == 410 and twice.json()["code"] == "answered"
    assert widget_post("/widget/v1/surveys/", {"visitor_token": visitor_token}).json() == {"surveys": []}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"score": 6}, 400, "score"),
        ({"score": "5"}, 400, "score"),
        ({"score": 4.5}, 400, "score"),
        ({"score": 1, "reason": 3}, 400, "reason"),
        ({"score": 5, "extra": 1}, 400, "extra"),
    ],
)
def test_the_widget_s_bad_answers_record_nothing(widget, body, status, field) -> None:
    visitor_token, survey = widget
    response = widget_post(f"/widget/v1/surveys/{survey.pk}/answer", {"visitor_token": visitor_token, **body})
    assert response.status_code == status and field in response.json()
    assert not SurveyResponse.objects.exists()


def test_the_widget_cannot_answer_another_customer_s_survey(widget, shop, logistics, logistics_agent) -> None:
    visitor_token, _ = widget
    other = make_ticket(make_customer(shop), logistics, channel=TicketChannel.CHAT)
    solve(other, logistics_agent)
    foreign = Survey.objects.get(ticket=other)
    response = widget_post(f"/widget/v1/surveys/{foreign.pk}/answer", {"visitor_token": visitor_token, "score": 5})
    assert response.status_code == 404
    assert not SurveyResponse.objects.exists()


def test_the_widget_needs_an_allowed_origin_and_a_visitor(widget) -> None:
    visitor_token, survey = widget
    url = f"/widget/v1/surveys/{survey.pk}/answer"
    elsewhere = widget_post(url, {"visitor_token": visitor_token, "score": 5}, origin="https://evil.example")
    assert elsewhere.status_code == 403
    assert widget_post(url, {"visitor_token": "forged", "score": 5}).status_code == 403
    assert not SurveyResponse.objects.exists()


def test_the_widget_list_is_limited_per_visitor_not_for_everyone(widget, settings, shop) -> None:
    visitor_token, _ = widget
    settings.SURVEY_RATE_LIMIT_PER_SURVEY = 2
    other = widget_session_start(shop=shop).visitor_token
    statuses = [widget_post("/widget/v1/surveys/", {"visitor_token": visitor_token}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert widget_post("/widget/v1/surveys/", {"visitor_token": other}).status_code == 200
