"""The widget's `survey` frame: a solved chat's CSAT reaches its own customer
live and again after a reconnect, never another customer, and not once the
customer reopened the conversation."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from helpdesk.tickets.models import AgentStatus, Ticket, TicketChannel, TicketStatus
from helpdesk.tickets.services import agent_seen, ticket_set_status
from surveys.models import Survey, SurveyKind, SurveyPolicy, SurveyReason, SurveyStatus
from tests.chat.conftest import db, drain, new_id, receive_until, widget_connect, widget_session
from tests.factories import make_agent, make_shop, make_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent():
    agent = make_agent("lena", teams=(make_team("general"),))
    return agent_seen(agent=agent, status=AgentStatus.ONLINE)


@pytest.fixture
def shop(agent):
    # Transactional tests flush the migration's default policy: the same one again.
    SurveyPolicy.objects.get_or_create(
        team=None, channel=TicketChannel.CHAT, defaults={"name": "Chats: CSAT right away", "kind": SurveyKind.CSAT}
    )
    return make_shop("acme")[0]


async def chat(body: str = "My tent arrived torn") -> tuple[dict, WebsocketCommunicator, Ticket]:
    """A new visitor's widget with one conversation."""
    session = await db(widget_session)("acme")
    ws = await widget_connect(session)
    await receive_until(ws, "welcome")
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": body})
    ticket = await db(Ticket.objects.get)(pk=(await receive_until(ws, "ack"))["ticket"])
    return session, ws, ticket


def solve(ticket: Ticket, agent) -> None:
    ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)


async def test_solving_a_chat_sends_its_customer_the_survey_after_the_conversation_frame(shop, agent):
    _, dana, ticket = await chat()
    _, other, _ = await chat("Another customer's question")
    await drain(dana)
    await drain(other)

    await db(solve)(ticket, agent)

    frames = await drain(dana)
    kinds = [f["type"] for f in frames]
    assert kinds.index("conversation") < kinds.index("survey")
    survey = next(f for f in frames if f["type"] == "survey")
    stored = await db(Survey.objects.get)(ticket=ticket)
    assert survey == {
        "type": "survey",
        "survey": stored.pk,
        "ticket": ticket.pk,
        "subject": ticket.subject,
        "kind": "csat",
        "scale": [1, 5],
        "reason_scores": [1, 2],
        "reasons": [{"value": v, "label": label} for v, label in SurveyReason.choices],
        "expires_at": stored.expires_at.isoformat() if stored.expires_at else None,
    }
    assert not [f for f in await drain(other) if f["type"] == "survey"]
    await dana.disconnect()
    await other.disconnect()


async def test_a_widget_that_comes_back_gets_the_open_survey_after_welcome(shop, agent):
    session, ws, ticket = await chat()
    await ws.disconnect()
    await db(solve)(ticket, agent)

    again = await widget_connect(await db(widget_session)("acme", visitor_token=session["visitor_token"]))
    first = await again.receive_json_from(timeout=3)
    second = await again.receive_json_from(timeout=3)

    assert first["type"] == "welcome"
    assert (second["type"], second["ticket"], second["kind"]) == ("survey", ticket.pk, "csat")
    await again.disconnect()

    # Another visitor (another customer) gets none.
    stranger = await widget_connect(await db(widget_session)("acme"))
    assert [f["type"] for f in await drain(stranger)] == ["welcome"]
    await stranger.disconnect()


async def test_writing_again_cancels_the_survey_and_a_reconnect_no_longer_shows_it(shop, agent):
    session, ws, ticket = await chat()
    await db(solve)(ticket, agent)
    assert [f for f in await drain(ws) if f["type"] == "survey"]

    await ws.send_json_to(
        {"type": "message.send", "client_msg_id": new_id(), "body": "Still torn", "ticket": ticket.pk}
    )
    await receive_until(ws, "ack")
    await ws.disconnect()

    survey = await db(Survey.objects.get)(ticket=ticket)
    assert survey.status == SurveyStatus.CANCELLED
    again = await widget_connect(await db(widget_session)("acme", visitor_token=session["visitor_token"]))
    assert [f["type"] for f in await drain(again)] == ["welcome"]
    await again.disconnect()
