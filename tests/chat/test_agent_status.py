"""The agent's status frame drives assignment: going away from the desk hands
open chats back to the team queue, coming back online asks for a drain."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets.models import AgentStatus, Ticket, TicketStatus
from helpdesk.tickets.services import agent_seen
from helpdesk.tickets.tasks import assignment_run
from tests.chat.conftest import agent_connect, agent_cookie, db, receive_until
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def given_chats() -> tuple[int, int, int, str]:
    team = make_team("general")
    agent = agent_seen(agent=make_agent("lena", teams=(team,)), status=AgentStatus.ONLINE)
    customer = make_customer(make_shop("acme")[0])
    open_chat, pending_chat = (make_ticket(customer, team, subject=s) for s in ("Late", "Refund"))
    Ticket.objects.filter(pk=open_chat.pk).update(assignee=agent, status=TicketStatus.OPEN)
    Ticket.objects.filter(pk=pending_chat.pk).update(assignee=agent, status=TicketStatus.PENDING)
    DBTaskResult.objects.all().delete()
    return agent.pk, open_chat.pk, pending_chat.pk, agent_cookie(agent)


def assignees(*ticket_ids: int) -> list[int | None]:
    return [Ticket.objects.values_list("assignee_id", flat=True).get(pk=pk) for pk in ticket_ids]


def queued_drains() -> int:
    return DBTaskResult.objects.filter(task_path=assignment_run.module_path).count()


async def test_going_away_hands_open_chats_back_and_keeps_pending_ones():
    agent_id, open_chat, pending_chat, cookie = await db(given_chats)()
    desk = await agent_connect(cookie)
    await receive_until(desk, "welcome")

    await desk.send_json_to({"type": "status", "status": "away"})
    assert (await receive_until(desk, "status"))["status"] == "away"

    assert await db(assignees)(open_chat, pending_chat) == [None, agent_id]
    assert await db(queued_drains)() == 1
    await desk.send_json_to({"type": "status", "status": "online"})
    await receive_until(desk, "status")
    assert await db(queued_drains)() == 2
    await desk.disconnect()
