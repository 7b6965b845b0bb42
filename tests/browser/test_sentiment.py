"""The agent sees each customer message's mood arrive live after the model tags
it, the conversation's mood and the priority raise it caused, and corrects a
tag with one click. The model is a small fake here: the page is the subject."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.tickets import sentiment_services
from helpdesk.tickets.models import Message
from helpdesk.tickets.sentiment_services import messages_tag_batch
from sentiment.adapter import SentimentResult
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser


class AngryModel:
    def predict(self, texts):
        return [SentimentResult("negative", 0.97, "fake", "1") for _ in texts]


def test_tags_arrive_live_raise_priority_and_take_a_correction(desk_server, signed_in, monkeypatch):
    team = make_team("logistics")
    agent = make_agent("lena", teams=(team,))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com")
    ticket = make_ticket(customer, team, body="Third week without my tent. Unbelievable.")
    desk = signed_in(desk_server, agent)
    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    tag = desk.get_by_test_id("sentiment-tag")
    expect(tag).to_have_attribute("data-sentiment", "pending")
    expect(tag).to_contain_text("Mood pending")

    monkeypatch.setattr(sentiment_services, "sentiment_model", AngryModel)
    assert messages_tag_batch().tagged == 1

    expect(tag).to_have_attribute("data-sentiment", "negative")
    expect(tag.locator(".mood-label")).to_have_text("Negative")
    expect(desk.get_by_test_id("ticket-mood")).to_have_attribute("data-sentiment", "negative")
    expect(desk.get_by_test_id("ticket-priority")).to_have_value("high")
    expect(desk.get_by_test_id("conversation")).to_contain_text("Priority raised to High: a confidently negative")

    tag.get_by_role("button", name="Mark neutral").click()

    expect(tag).to_have_attribute("data-corrected", "true")
    expect(tag.locator(".mood-label")).to_have_text("Neutral (corrected)")
    expect(desk.get_by_test_id("ticket-mood")).to_have_attribute("data-sentiment", "neutral")
    message = Message.objects.get(ticket=ticket, seq=1)
    assert (message.sentiment, message.sentiment_corrected, message.sentiment_corrected_by_id) == (
        "negative",
        "neutral",
        agent.pk,
    )
