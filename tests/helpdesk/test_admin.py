from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.customers.models import Customer, Order, Shop, api_key_digest
from helpdesk.customers.selectors import shop_for_api_key
from helpdesk.customers.services import shop_sync
from helpdesk.tickets.models import Agent, CannedReply, EventKind, Message, Team, Ticket, TicketEvent, TicketStatus
from helpdesk.tickets.services import ticket_assign, ticket_reply
from tests.factories import make_agent, make_customer, make_order, make_ticket, sync_batch, sync_customer, sync_order


@pytest.fixture
def admin_client(manager) -> Client:
    """The manager persona, who is the demo's only superuser."""
    manager.user.is_staff = manager.user.is_superuser = True
    manager.user.save()
    client = Client()
    assert client.login(username="maya", password="pw-maya")
    return client


@pytest.fixture
def desk(shop, customer, logistics, logistics_agent, team_lead) -> dict[str, object]:
    """One of everything: an order with items and scans, a ticket with messages and events."""
    shop_sync(
        shop=shop,
        payload=sync_batch([sync_customer("c1")], [sync_order("o1", "c1")]),
    )
    order = Order.objects.get(external_id="o1")
    ticket = make_ticket(order.customer, logistics, order=order)
    ticket_assign(ticket=ticket, actor=team_lead, assignee=logistics_agent)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="On its way")
    return {
        "shop": shop,
        "customer": order.customer,
        "order": order,
        "team": logistics,
        "agent": logistics_agent,
        "ticket": ticket,
        "message": ticket.messages.last(),
        "ticketevent": ticket.events.last(),
    }


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


MODELS: dict[str, type[Model]] = {
    "shop": Shop,
    "customer": Customer,
    "order": Order,
    "team": Team,
    "agent": Agent,
    "ticket": Ticket,
    "message": Message,
    "ticketevent": TicketEvent,
}


def test_the_manager_logs_into_the_admin(manager):
    manager.user.is_staff = manager.user.is_superuser = True
    manager.user.save()
    client = Client()

    response = client.post(
        reverse("admin:login"), {"username": "maya", "password": "pw-maya", "next": "/admin/"}, follow=True
    )

    assert response.status_code == 200
    assert response.context["user"] == manager.user
    assert response.redirect_chain[-1][0] == "/admin/"


@pytest.mark.parametrize("name", MODELS)
def test_every_model_has_a_changelist_and_a_change_page(admin_client, desk, name):
    model, obj = MODELS[name], desk[name]

    listing = admin_client.get(admin_url(model, "changelist"))
    page = admin_client.get(admin_url(model, "change", obj.pk))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 1
    assert page.status_code == 200


@pytest.mark.parametrize("name", ["customer", "order", "ticket", "agent"])
def test_changelist_search_works(admin_client, desk, name):
    response = admin_client.get(admin_url(MODELS[name], "changelist"), {"q": "a"})

    assert response.status_code == 200


# -- the event log and the conversation cannot be edited by hand -----------------------


def action_names(listing) -> list[str]:
    form = listing.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


@pytest.mark.parametrize("name", ["ticketevent", "message"])
def test_events_and_messages_cannot_be_added_changed_or_deleted(admin_client, desk, name):
    model, obj = MODELS[name], desk[name]
    before = model._default_manager.count()

    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", obj.pk), {"kind": "opened", "body": "x"}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    page = admin_client.get(admin_url(model, "change", obj.pk))
    assert page.context["has_change_permission"] is False
    listing = admin_client.get(admin_url(model, "changelist"))
    assert "delete_selected" not in action_names(listing)
    assert model._default_manager.count() == before


def test_tickets_are_neither_added_nor_deleted_in_the_admin(admin_client, desk):
    ticket = desk["ticket"]

    assert admin_client.get(admin_url(Ticket, "add")).status_code == 403
    assert admin_client.post(admin_url(Ticket, "delete", ticket.pk), {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def ticket_form(ticket: Ticket, **changes: object) -> dict[str, object]:
    data = {
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "team": ticket.team_id,
        "assignee": ticket.assignee_id or "",
        # The read-only inlines post no forms.
        "messages-TOTAL_FORMS": 0,
        "messages-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


def test_a_ticket_changed_in_the_admin_goes_through_the_services(admin_client, desk, manager):
    ticket = desk["ticket"]
    ticket.refresh_from_db()

    response = admin_client.post(
        admin_url(Ticket, "change", ticket.pk),
        ticket_form(ticket, status=TicketStatus.SOLVED, priority="high", subject="Parcel late"),
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.subject) == (TicketStatus.SOLVED, "high", "Parcel late")
    assert ticket.solved_at is not None
    logged = {e.kind: e for e in ticket.events.filter(actor=manager)}
    assert logged[EventKind.STATUS_CHANGED].data["new"] == TicketStatus.SOLVED
    assert logged[EventKind.PRIORITY_CHANGED].data["reason"] == "changed in the admin"


def test_the_admin_refuses_an_assignee_from_another_team(admin_client, desk, returns_agent):
    ticket = desk["ticket"]
    ticket.refresh_from_db()
    events_before = ticket.events.count()

    response = admin_client.post(admin_url(Ticket, "change", ticket.pk), ticket_form(ticket, assignee=returns_agent.pk))

    assert response.status_code == 200
    assert "assignee" in response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.assignee == desk["agent"]
    assert ticket.events.count() == events_before


# -- shops and their keys -----------------------------------------------------------------


def test_a_shop_added_in_the_admin_gets_a_key_shown_once(admin_client):
    response = admin_client.post(
        admin_url(Shop, "add"), {"slug": "outdoor", "name": "Outdoor", "currency": "EUR"}, follow=True
    )

    assert response.status_code == 200
    shop = Shop.objects.get(slug="outdoor")
    [message] = [str(m) for m in response.context["messages"] if "shk_" in str(m)]
    raw_key = next(word for word in message.split() if word.startswith("shk_"))
    assert shop.api_key_digest == api_key_digest(raw_key)
    assert raw_key not in admin_client.get(admin_url(Shop, "change", shop.pk)).content.decode()


def test_the_digest_is_never_an_editable_field(admin_client, shop):
    form = admin_client.get(admin_url(Shop, "change", shop.pk)).context["adminform"].form

    assert "api_key_digest" not in form.fields
    assert "api_key_prefix" not in form.fields


def test_rotating_a_key_in_the_admin_shows_the_new_key_and_retires_the_old(admin_client, shop_and_key):
    shop, old_key = shop_and_key

    response = admin_client.post(
        admin_url(Shop, "changelist"), {"action": "rotate_api_key", "_selected_action": [shop.pk]}, follow=True
    )

    [message] = [str(m) for m in response.context["messages"]]
    new_key = next(word for word in message.split() if word.startswith("shk_"))
    assert shop_for_api_key(new_key) == shop
    assert shop_for_api_key(old_key) is None


# -- lists stay a fixed number of queries ---------------------------------------------------


def add_rows(shop: Shop, n: int) -> None:
    for i in range(n):
        team = Team.objects.create(slug=f"team-{i}-{Team.objects.count()}", name=f"Team {i}")
        agent = make_agent(f"agent-{i}-{Agent.objects.count()}", teams=(team,))
        customer = make_customer(shop)
        order = make_order(customer)
        ticket = make_ticket(customer, team, order=order)
        ticket_assign(ticket=ticket, actor=agent, assignee=agent)
        ticket_reply(ticket=ticket, agent=agent, body="Hello")


@pytest.mark.parametrize("name", ["customer", "order", "agent", "ticket", "message", "ticketevent", "team"])
def test_changelists_do_not_query_per_row(admin_client, shop, name):
    url = admin_url(MODELS[name], "changelist")
    add_rows(shop, 2)
    admin_client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200

    add_rows(shop, 5)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.fixture
def agent_client(logistics_agent) -> Client:
    """A logistics agent with staff access and no model permissions."""
    logistics_agent.user.is_staff = True
    logistics_agent.user.save()
    client = Client()
    assert client.login(username="lena", password="pw-lena")
    return client


def test_an_agent_sees_in_the_admin_only_what_the_api_shows_them(agent_client, desk, returns, shop):
    # Given a ticket of the returns team from another customer
    stranger = make_customer(shop, name="Stranger Returns", email="stranger@example.com")
    foreign = make_ticket(stranger, returns, subject="Refund please")
    own = desk["ticket"]

    # When the logistics agent opens the ticket and customer lists
    tickets = agent_client.get(admin_url(Ticket, "changelist"))
    customers = agent_client.get(admin_url(Customer, "changelist"))
    own_page = agent_client.get(admin_url(Ticket, "change", own.pk))
    foreign_page = agent_client.get(admin_url(Ticket, "change", foreign.pk), follow=True)

    # Then their team's ticket is there, read-only, and the other team's is not
    assert tickets.status_code == 200
    assert own.subject in tickets.content.decode()
    assert "Refund please" not in tickets.content.decode()
    assert "Stranger Returns" not in customers.content.decode()
    assert own_page.status_code == 200
    assert 'name="_save"' not in own_page.content.decode()
    assert "doesn\u2019t exist" in foreign_page.content.decode()


def test_an_agent_cannot_change_a_ticket_through_the_admin(agent_client, desk):
    ticket = desk["ticket"]

    response = agent_client.post(admin_url(Ticket, "change", ticket.pk), ticket_form(ticket, priority="urgent"))

    ticket.refresh_from_db()
    assert response.status_code == 403
    assert ticket.priority == "normal"


def test_an_agent_cannot_open_shops_and_their_keys(agent_client, shop):
    assert agent_client.get(admin_url(Shop, "changelist")).status_code == 403


# Canned replies: team leads keep their own teams' replies


@pytest.fixture
def lead_client(team_lead) -> Client:
    """The logistics team lead, with staff access and no model permissions."""
    team_lead.user.is_staff = True
    team_lead.user.save()
    client = Client()
    assert client.login(username="tal", password="pw-tal")
    return client


@pytest.fixture
def replies(logistics, returns) -> dict[str, CannedReply]:
    return {
        "own": CannedReply.objects.create(team=logistics, title="Delayed", body="Sorry for the delay"),
        "other": CannedReply.objects.create(team=returns, title="Refund", body="Refund sent"),
        "shared": CannedReply.objects.create(team=None, title="Hello", body="Hi {customer.first_name}"),
    }


def reply_form(reply: CannedReply, **changes: object) -> dict[str, object]:
    return {"team": reply.team_id or "", "title": reply.title, "body": reply.body, **changes}


def test_a_team_lead_edits_adds_and_deletes_their_teams_replies(lead_client, replies, logistics):
    own = replies["own"]

    changed = lead_client.post(admin_url(CannedReply, "change", own.pk), reply_form(own, body="Sorry, it is late"))
    added = lead_client.post(
        admin_url(CannedReply, "add"), {"team": logistics.pk, "title": "Lost", "body": "We are looking for it"}
    )
    new = CannedReply.objects.get(title="Lost")
    deleted = lead_client.post(admin_url(CannedReply, "delete", new.pk), {"post": "yes"})

    assert changed.status_code == 302 and added.status_code == 302 and deleted.status_code == 302
    own.refresh_from_db()
    assert own.body == "Sorry, it is late"
    assert not CannedReply.objects.filter(pk=new.pk).exists()


def test_a_team_lead_cannot_touch_another_teams_or_the_shared_replies(lead_client, replies, returns):
    other, shared, own = replies["other"], replies["shared"], replies["own"]

    other_change = lead_client.post(
        admin_url(CannedReply, "change", other.pk), reply_form(other, body="x"), follow=True
    )
    other_delete = lead_client.post(admin_url(CannedReply, "delete", other.pk), {"post": "yes"}, follow=True)
    shared_change = lead_client.post(admin_url(CannedReply, "change", shared.pk), reply_form(shared, body="x"))
    shared_delete = lead_client.post(admin_url(CannedReply, "delete", shared.pk), {"post": "yes"})
    moved = lead_client.post(admin_url(CannedReply, "change", own.pk), reply_form(own, team=returns.pk))
    made_shared = lead_client.post(admin_url(CannedReply, "add"), {"team": "", "title": "Bye", "body": "Bye"})
    bulk = lead_client.post(
        admin_url(CannedReply, "changelist"),
        {"action": "delete_selected", "_selected_action": [shared.pk], "post": "yes"},
    )

    # Another team's reply does not exist for them; the shared one is read-only
    assert "doesn\u2019t exist" in other_change.content.decode()
    assert "doesn\u2019t exist" in other_delete.content.decode()
    assert shared_change.status_code == 403 and shared_delete.status_code == 403
    # Their own reply cannot leave their teams, nor can they add a shared one
    assert moved.status_code == 200 and "team" in moved.context["adminform"].form.errors
    assert made_shared.status_code == 200 and not CannedReply.objects.filter(title="Bye").exists()
    assert bulk.status_code in (200, 302)
    for reply in replies.values():
        reply.refresh_from_db()
    assert (other.body, shared.body, own.team_id) == ("Refund sent", "Hi {customer.first_name}", own.team_id)
    assert CannedReply.objects.count() == 3


def test_an_agent_still_only_views_replies_and_a_manager_edits_every_one(agent_client, replies, manager):
    own, shared = replies["own"], replies["shared"]
    manager.user.is_staff = True
    manager.user.save()
    manager_client = Client()
    assert manager_client.login(username="maya", password="pw-maya")

    refused = agent_client.post(admin_url(CannedReply, "change", own.pk), reply_form(own, body="x"))
    allowed = manager_client.post(admin_url(CannedReply, "change", shared.pk), reply_form(shared, body="Hello!"))

    assert refused.status_code == 403
    assert allowed.status_code == 302
    shared.refresh_from_db()
    assert shared.body == "Hello!"
