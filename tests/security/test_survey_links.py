"""Attacks on survey links (/survey/<token>/) and the widget's survey
endpoints: forged, altered, swapped, replayed and expired tokens, other
customers' survey ids, hostile HTML in answers, malformed and oversized
answers, and flooding."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from chat.services import widget_session_start
from helpdesk.tickets.models import TicketChannel
from surveys.models import Survey, SurveyKind, SurveyPolicy, SurveyResponse, SurveyStatus
from surveys.tokens import token_make
from tests.conftest import api_client_for
from tests.factories import make_customer, make_ticket
from tests.security.conftest import HOSTILE_TEXTS
from tests.surveys.conftest import email_survey, solve

SHOP_ORIGIN = "https://shop.example"


def page(token: str) -> str:
    return f"/survey/{token}/"


def form_post(token: str, **data: Any):
    """The customer's browser: shows the form, then posts it with its CSRF token."""
    client = Client(enforce_csrf_checks=True)
    assert client.get(page(token)).status_code == 200
    return client.post(page(token), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **data})


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    caches["ratelimit"].clear()


@pytest.fixture
def nps_by_email(db) -> SurveyPolicy:
    return SurveyPolicy.objects.create(name="Email NPS", channel=TicketChannel.EMAIL, kind=SurveyKind.NPS)


@pytest.fixture
def emailed(customer, logistics, logistics_agent, nps_by_email) -> tuple[Survey, str]:
    """Dana's solved email ticket and the link of its NPS survey."""
    return email_survey(make_ticket(customer, logistics, channel=TicketChannel.EMAIL), logistics_agent)


@pytest.fixture
def another(shop, logistics, logistics_agent, nps_by_email) -> tuple[Survey, str]:
    """Another customer's emailed survey."""
    ticket = make_ticket(make_customer(shop, name="Eve Other"), logistics, channel=TicketChannel.EMAIL)
    return email_survey(ticket, logistics_agent)


# Tokens


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token, survey: token[:-1] + ("A" if token[-1] != "A" else "B"), id="altered-signature"),
        pytest.param(lambda token, survey: f"{survey.pk + 1}" + token[len(str(survey.pk)) :], id="incremented-id"),
        pytest.param(lambda token, survey: token_make(survey.pk), id="fresh-signature-same-survey"),
        pytest.param(lambda token, survey: token.split(":")[0], id="unsigned"),
        pytest.param(lambda token, survey: "x" * 5000, id="oversized"),
        pytest.param(lambda token, survey: "%00", id="nul"),
    ],
)
def test_forged_and_altered_links_are_404_and_record_nothing(emailed, forge):
    survey, token = emailed
    forged = forge(token, survey)

    assert Client().get(page(forged)).status_code == 404
    assert Client().post(page(forged), {"score": "10"}).status_code in (403, 404)  # CSRF or the link
    assert not SurveyResponse.objects.exists()


def test_a_link_answers_only_its_own_survey_even_when_the_form_names_another(emailed, another):
    _, token = emailed
    theirs, _ = another

    response = form_post(token, score="0", survey=str(theirs.pk))

    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()
    assert "Eve Other" not in response.content.decode()


def test_a_replayed_link_is_410_and_the_first_answer_stands(emailed):
    _, token = emailed
    assert form_post(token, score="9", comment="great").status_code == 200

    again = Client().get(page(token))
    replayed = Client(enforce_csrf_checks=False).post(page(token), {"score": "0", "comment": "changed my mind"})

    assert again.status_code == 410 and replayed.status_code == 410
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment) == (9, "great")


def test_an_expired_link_is_410_and_records_nothing(emailed, settings):
    _, token = emailed

    with time_machine.travel(timezone.now() + timedelta(days=settings.SURVEY_TOKEN_DAYS, hours=1)):
        assert Client().get(page(token)).status_code == 410
        assert Client().post(page(token), {"score": "10"}).status_code == 410

    assert not SurveyResponse.objects.exists()


def test_a_post_without_the_pages_csrf_token_records_nothing(emailed):
    _, token = emailed

    response = Client(enforce_csrf_checks=True).post(page(token), {"score": "10"})

    assert response.status_code == 403 and not SurveyResponse.objects.exists()


# Answers


def test_html_in_answers_is_stored_as_text_and_escaped_on_the_desk(emailed, manager):
    survey, token = emailed

    response = form_post(token, score="2", comment=HOSTILE_TEXTS[1], reason="other", reason_text=HOSTILE_TEXTS[2])

    assert response.status_code == 200
    answer = SurveyResponse.objects.get()
    assert (answer.comment, answer.reason_text) == (HOSTILE_TEXTS[1], HOSTILE_TEXTS[2])
    html = api_client_for(manager).get(f"/desk/tickets/{survey.ticket_id}/").content.decode()
    assert "<img src=x" not in html and 'href="javascript:' not in html.lower()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_a_refused_answer_shows_the_hostile_text_back_escaped(emailed):
    _, token = emailed

    response = form_post(token, score="99", comment="</textarea><script>alert(1)</script>")

    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"score": "1e1"}, "score"),
        ({"score": "-1"}, "score"),
        ({"score": "11"}, "score"),
        ({"score": "5", "comment": "x" * 5001}, "comment"),
        ({"score": "5", "comment": "a\x00b"}, "comment"),
        ({"score": "2", "reason": "<script>"}, "reason"),
        ({"score": "2", "reason": "other", "reason_text": "y\x00"}, "reason_text"),
    ],
)
def test_malformed_and_oversized_answers_show_the_form_again_and_record_nothing(emailed, data, field):
    _, token = emailed

    response = form_post(token, **data)

    assert response.status_code == 400
    assert response.context["errors"].get(field), response.context["errors"]
    assert not SurveyResponse.objects.exists()
    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.PENDING


# The widget's survey endpoints


@pytest.fixture
def widget(settings, shop, logistics, logistics_agent):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]
    started = widget_session_start(shop=shop)
    ticket = make_ticket(started.visitor.customer, logistics, channel=TicketChannel.CHAT)
    solve(ticket, logistics_agent)
    return started.visitor_token, Survey.objects.get(ticket=ticket)


def widget_post(path: str, body: Any = None, *, raw: str | None = None, origin: str = SHOP_ORIGIN):
    data = raw if raw is not None else json.dumps(body)
    return Client().post(path, data, content_type="application/json", headers={"Origin": origin})


def test_the_widget_cannot_list_or_answer_other_customers_surveys_by_guessing_ids(widget, shop, logistics_agent):
    visitor_token, mine = widget
    eve = widget_session_start(shop=shop)
    their_ticket = make_ticket(eve.visitor.customer, mine.ticket.team, channel=TicketChannel.CHAT, subject="Eve's")
    solve(their_ticket, logistics_agent)
    theirs = Survey.objects.get(ticket=their_ticket)

    for guess in {theirs.pk, mine.pk + 1, theirs.pk + 1, 10**12}:
        if guess == mine.pk:
            continue
        response = widget_post(f"/widget/v1/surveys/{guess}/answer", {"visitor_token": visitor_token, "score": 1})
        assert response.status_code == 404, guess
    listed = widget_post("/widget/v1/surveys/", {"visitor_token": visitor_token}).json()["surveys"]

    assert [s["survey"] for s in listed] == [mine.pk] and "Eve's" not in json.dumps(listed)
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"score": True}, 400, "score"),
        ({"score": "5"}, 400, "score"),
        ({"score": 5.0}, 400, "score"),
        ({"score": 5, "comment": ["x"]}, 400, "comment"),
        ({"score": 5, "comment": "a\u0000b"}, 400, "comment"),
        ({"score": 5, "comment": "x" * 5001}, 400, "comment"),
        ({"score": 5, "survey": 1}, 400, "survey"),
        ({"score": 5, "visitor_token": None}, 403, "visitor_token"),
        ({"score": 5, "visitor_token": ["t"]}, 403, "visitor_token"),
    ],
)
def test_the_widgets_malformed_answers_are_refused_and_record_nothing(widget, body, status, field):
    visitor_token, survey = widget

    response = widget_post(f"/widget/v1/surveys/{survey.pk}/answer", {"visitor_token": visitor_token, **body})

    assert response.status_code == status and field in response.json(), response.content
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    "raw", ["[" * 50_000 + "]" * 50_000, '{"score": ' + "[" * 50_000 + "]" * 50_000 + "}", "NaN", "[]"]
)
def test_the_widgets_unreadable_bodies_are_400(widget, raw):
    _, survey = widget

    assert widget_post(f"/widget/v1/surveys/{survey.pk}/answer", raw=raw).status_code == 400
    assert widget_post("/widget/v1/surveys/", raw=raw).status_code == 403  # no visitor token in it
    assert not SurveyResponse.objects.exists()


def test_flooding_one_survey_with_answers_is_429_and_records_one(widget, settings):
    visitor_token, survey = widget
    settings.SURVEY_RATE_LIMIT_PER_SURVEY = 3

    statuses = [
        widget_post(f"/widget/v1/surveys/{survey.pk}/answer", {"visitor_token": visitor_token, "score": n % 5 + 1})
        for n in range(6)
    ]

    assert [r.status_code for r in statuses] == [200, 410, 410, 429, 429, 429]
    assert SurveyResponse.objects.count() == 1


def test_guessing_links_from_one_address_is_stopped_by_the_ip_limit(emailed, settings):
    settings.SURVEY_RATE_LIMIT_PER_IP = 5
    client = Client()

    statuses = [client.get(page(f"{n}.guess:sig")).status_code for n in range(8)]

    assert statuses == [404] * 5 + [429] * 3
