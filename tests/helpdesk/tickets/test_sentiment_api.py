"""Agents correct a message's sentiment tag through the API, with one click
on the ticket page; bad labels are a 400 and other teams' tickets a 404."""

from __future__ import annotations

from helpdesk.tickets.models import Message
from helpdesk.tickets.services import ticket_reply
from tests.conftest import api_client_for
from tests.factories import make_ticket


def url(ticket, seq: int) -> str:
    return f"/api/v1/tickets/{ticket.pk}/messages/{seq}/sentiment/"


def test_an_agent_corrects_a_tag_and_reads_it_back(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics, body="great, just great, another week of waiting")
    Message.objects.filter(seq=1).update(sentiment="positive", sentiment_confidence=0.9)

    response = api_client_for(logistics_agent).post(url(ticket, 1), {"label": "negative"}, format="json")

    assert response.status_code == 200
    assert (response.json()["sentiment"], response.json()["sentiment_corrected"]) == ("positive", "negative")
    ticket.refresh_from_db()
    assert ticket.sentiment == "negative"


def test_a_bad_label_is_a_400_naming_the_field(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)

    response = api_client_for(logistics_agent).post(url(ticket, 1), {"label": "furious"}, format="json")

    assert response.status_code == 400
    assert "label" in response.json()
    assert Message.objects.get(seq=1).sentiment_corrected == ""


def test_an_agent_reply_or_a_missing_message_cannot_be_corrected(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="hello")
    client = api_client_for(logistics_agent)

    assert client.post(url(ticket, 2), {"label": "negative"}, format="json").status_code == 400
    assert client.post(url(ticket, 9), {"label": "negative"}, format="json").status_code == 404


def test_another_teams_ticket_is_a_404(customer, returns, logistics_agent):
    ticket = make_ticket(customer, returns)

    response = api_client_for(logistics_agent).post(url(ticket, 1), {"label": "negative"}, format="json")

    assert response.status_code == 404
    assert Message.objects.get(seq=1).sentiment_corrected == ""


def test_the_inbox_filters_by_mood_and_shows_it(customer, logistics, logistics_agent):
    from django.test import Client

    from helpdesk.tickets.models import Ticket

    angry = make_ticket(customer, logistics, subject="Late again")
    calm = make_ticket(customer, logistics, subject="Size question")
    Ticket.objects.filter(pk=angry.pk).update(sentiment="negative", sentiment_trend="worsening")
    Ticket.objects.filter(pk=calm.pk).update(sentiment="neutral")
    api = api_client_for(logistics_agent)

    listed = api.get("/api/v1/tickets/?sentiment=negative").json()["results"]
    bad = api.get("/api/v1/tickets/?sentiment=furious")
    page = Client()
    page.force_login(logistics_agent.user)
    html = page.get("/inbox/?sentiment=negative").content.decode()

    assert [t["id"] for t in listed] == [angry.pk]
    assert listed[0]["sentiment"] == "negative" and listed[0]["sentiment_trend"] == "worsening"
    assert bad.status_code == 400 and "sentiment" in bad.json()
    assert 'data-sentiment="negative">Negative ↘</span>' in html
    assert "Size question" not in html
