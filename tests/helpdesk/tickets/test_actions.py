"""The ticket page's side-box actions: tags, the linked order, merging."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from chat.services import Identity, widget_message_send, widget_session_start
from helpdesk.customers.identity import identity_hmac
from helpdesk.customers.models import Customer
from helpdesk.customers.services import shop_sync
from helpdesk.tickets import notify
from helpdesk.tickets.models import AuthorKind, EventKind, Tag, Ticket, TicketStatus
from helpdesk.tickets.services import (
    MAX_TAGS,
    message_post,
    tags_normalise,
    ticket_link_order,
    ticket_merge,
    ticket_reply,
    ticket_set_tags,
)
from tests.conftest import api_client_for
from tests.factories import desk_events, make_customer, make_order, make_ticket, sync_batch, sync_customer, sync_order


def url(ticket: Ticket, action: str = "") -> str:
    return f"/api/v1/tickets/{ticket.pk}/{action + '/' if action else ''}"


def events(ticket: Ticket, kind: EventKind) -> list[dict]:
    return list(ticket.events.filter(kind=kind).order_by("id").values_list("data", flat=True))


@pytest.fixture
def ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics, subject="Parcel late")


# Tags


def test_tags_are_trimmed_lower_cased_and_unique():
    assert tags_normalise([" VIP ", "vip", "Charge_back-2", ""]) == ["vip", "charge_back-2"]


@pytest.mark.parametrize(
    "bad", ["two words", "semi;colon", "<b>", "x" * 41, "emoji😀"], ids=["space", "punct", "html", "long", "emoji"]
)
def test_a_bad_tag_is_a_field_error(bad):
    with pytest.raises(ValidationError) as raised:
        tags_normalise([bad])

    assert "tags" in raised.value.message_dict


def test_a_ticket_holds_at_most_twenty_tags():
    with pytest.raises(ValidationError):
        tags_normalise([f"t{n}" for n in range(MAX_TAGS + 1)])
    assert len(tags_normalise([f"t{n}" for n in range(MAX_TAGS)])) == MAX_TAGS


def test_setting_tags_creates_them_and_logs_what_changed(ticket, logistics_agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_tags(ticket=ticket, actor=logistics_agent, tags=["VIP", "late"])
    ticket_set_tags(ticket=ticket, actor=logistics_agent, tags=["vip", "damaged"])
    ticket_set_tags(ticket=ticket, actor=logistics_agent, tags=["damaged", "vip"])  # no change, no event

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["damaged", "vip"]
    assert set(Tag.objects.values_list("name", flat=True)) == {"vip", "late", "damaged"}
    assert events(ticket, EventKind.TAGS_CHANGED) == [
        {"added": ["vip", "late"], "removed": []},
        {"added": ["damaged"], "removed": ["late"]},
    ]
    assert len(callbacks) == 1


def test_tags_through_the_api(ticket, logistics_agent):
    client = api_client_for(logistics_agent)

    good = client.patch(url(ticket), {"tags": ["Refund", "vip"]}, format="json")
    bad = client.patch(url(ticket), {"tags": ["no spaces please"], "priority": "high"}, format="json")

    assert good.status_code == 200
    assert good.json()["tags"] == ["refund", "vip"]
    assert bad.status_code == 400
    assert "tags" in bad.json()
    ticket.refresh_from_db()
    assert ticket.priority == "normal"  # all or nothing
    assert client.get("/api/v1/tickets/").json()["results"][0]["tags"] == ["refund", "vip"]


# The linked order


def test_linking_an_order_of_the_customer(ticket, customer, logistics_agent):
    order = make_order(customer, number="1042")

    ticket_link_order(ticket=ticket, actor=logistics_agent, order=order)
    ticket_link_order(ticket=ticket, actor=logistics_agent, order=None)

    ticket.refresh_from_db()
    assert ticket.order is None
    assert events(ticket, EventKind.ORDER_LINKED) == [{"number": "1042", "old": None}, {"number": None, "old": "1042"}]


def test_another_customers_order_cannot_be_linked(ticket, shop, logistics_agent):
    stranger = make_customer(shop)
    order = make_order(stranger, number="2001")

    with pytest.raises(ValidationError) as raised:
        ticket_link_order(ticket=ticket, actor=logistics_agent, order=order)

    assert "order" in raised.value.message_dict
    ticket.refresh_from_db()
    assert ticket.order_id is None
    assert not events(ticket, EventKind.ORDER_LINKED)


def test_linking_through_the_api_by_number_or_id(ticket, customer, shop, logistics_agent):
    client = api_client_for(logistics_agent)
    mine = make_order(customer, number="1042")
    other = make_order(make_customer(shop), number="2001")

    by_number = client.patch(url(ticket), {"order": "#1042"}, format="json")
    unlinked = client.patch(url(ticket), {"order": None}, format="json")
    by_id = client.patch(url(ticket), {"order": mine.pk}, format="json")
    foreign = client.patch(url(ticket), {"order": "2001"}, format="json")
    unknown = client.patch(url(ticket), {"order": "nope"}, format="json")

    assert by_number.json()["order"] == {"id": mine.pk, "number": "1042"}
    assert unlinked.json()["order"] is None
    assert by_id.json()["order"]["id"] == mine.pk
    assert foreign.status_code == 400 and "order" in foreign.json()
    assert unknown.status_code == 400 and "order" in unknown.json()
    assert other.tickets.count() == 0


# Merging


@pytest.fixture
def pair(customer, logistics, logistics_agent) -> tuple[Ticket, Ticket]:
    source = make_ticket(customer, logistics, subject="Where is it?", body="Ordered last week, nothing yet")
    ticket_reply(ticket=source, agent=logistics_agent, body="Checking with the carrier")
    target = make_ticket(customer, logistics, subject="Parcel late", body="Still waiting")
    return source, target


def test_merging_closes_the_source_and_copies_its_conversation(
    pair, logistics_agent, django_capture_on_commit_callbacks
):
    source, target = pair

    with django_capture_on_commit_callbacks() as callbacks:
        ticket_merge(source=source, target=target, actor=logistics_agent)

    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert source.status == TicketStatus.CLOSED and source.closed_at is not None
    assert events(source, EventKind.MERGED) == [{"into": target.pk, "into_subject": "Parcel late"}]
    assert events(target, EventKind.MERGED) == [{"from": source.pk, "from_subject": "Where is it?"}]
    note = target.messages.order_by("seq").last()
    assert note.internal and note.author_agent == logistics_agent
    assert f"#{source.pk}" in note.body and "Where is it?" in note.body
    assert "> Ordered last week, nothing yet" in note.body
    assert "> Checking with the carrier" in note.body and "Lena" in note.body
    assert len(desk_events(callbacks)) >= 3  # source, target, the note


def test_customer_messages_to_a_merged_ticket_land_on_the_target(pair, logistics_agent):
    source, target = pair
    ticket_merge(source=source, target=target, actor=logistics_agent)

    posted = message_post(ticket=source, author_kind=AuthorKind.CUSTOMER, body="Any news?", client_msg_id="m-1")
    again = message_post(ticket=source, author_kind=AuthorKind.CUSTOMER, body="Any news?", client_msg_id="m-1")

    assert posted.message.ticket_id == target.pk
    assert not again.created and again.message.pk == posted.message.pk
    assert source.messages.filter(body="Any news?").count() == 0


@pytest.mark.parametrize("case", ["self", "other_customer", "already_merged", "target_merged", "target_closed"])
def test_merge_rules(case, pair, shop, logistics, logistics_agent):
    source, target = pair
    if case == "self":
        target = source
    elif case == "other_customer":
        target = make_ticket(make_customer(shop), logistics)
    elif case in ("already_merged", "target_merged"):
        third = make_ticket(source.customer, logistics)
        ticket_merge(source=source if case == "already_merged" else target, target=third, actor=logistics_agent)
    else:
        Ticket.objects.filter(pk=target.pk).update(status=TicketStatus.CLOSED)

    with pytest.raises(ValidationError) as raised:
        ticket_merge(source=source, target=target, actor=logistics_agent)

    assert "into" in raised.value.message_dict


def test_merge_through_the_api(pair, logistics_agent, returns, customer):
    source, target = pair
    hidden = make_ticket(customer, returns, subject="Refund")
    client = api_client_for(logistics_agent)

    unseen = client.post(url(source, "merge"), {"into": hidden.pk}, format="json")
    itself = client.post(url(source, "merge"), {"into": source.pk}, format="json")
    done = client.post(url(source, "merge"), {"into": target.pk}, format="json")
    twice = client.post(url(source, "merge"), {"into": target.pk}, format="json")

    assert unseen.status_code == 404
    assert itself.status_code == 400 and "into" in itself.json()
    assert done.status_code == 200
    assert done.json()["merged_into"] == target.pk and done.json()["status"] == "closed"
    assert twice.status_code == 400 and "into" in twice.json()


def test_another_teams_ticket_is_a_404_for_every_action(ticket, returns_agent):
    client = api_client_for(returns_agent)

    responses = [
        client.patch(url(ticket), {"tags": ["vip"]}, format="json"),
        client.patch(url(ticket), {"order": None}, format="json"),
        client.post(url(ticket, "merge"), {"into": ticket.pk}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert not ticket.tags.exists()


# Live context: what the ticket page's customer panel hears of


@pytest.fixture
def sent(monkeypatch) -> list[tuple[list[str], dict]]:
    calls: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(notify, "_send", lambda events: calls.extend((list(g), e) for g, e in events))
    return calls


def test_a_shop_sync_tells_the_customers_open_tickets(shop, logistics, sent, django_capture_on_commit_callbacks):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")], [sync_order("o1", "c1")]))
    customer = Customer.objects.get(external_id="c1")
    open_ticket = make_ticket(customer, logistics)
    closed = make_ticket(customer, logistics)
    Ticket.objects.filter(pk=closed.pk).update(status=TicketStatus.CLOSED)
    bystander = make_ticket(make_customer(shop), logistics)
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        shop_sync(shop=shop, payload=sync_batch([], [sync_order("o1", "c1", shipping_status="delivered")]))
    with django_capture_on_commit_callbacks(execute=True):
        shop_sync(shop=shop, payload=sync_batch([], [sync_order("o1", "c1", shipping_status="delivered")]))

    assert [(event["change"], event["ticket"]["id"]) for _, event in sent] == [("context", open_ticket.pk)]
    assert bystander.pk not in [event["ticket"]["id"] for _, event in sent]


def test_actions_notify_with_their_own_change(
    ticket, customer, logistics_agent, sent, django_capture_on_commit_callbacks
):
    order = make_order(customer)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_tags(ticket=ticket, actor=logistics_agent, tags=["vip"])
        ticket_link_order(ticket=ticket, actor=logistics_agent, order=order)

    assert [event["change"] for _, event in sent] == ["tags", "order"]


def test_the_widget_keeps_writing_to_a_merged_ticket_and_it_lands_on_the_target(pair, shop, customer, logistics_agent):
    source, target = pair
    mac = identity_hmac(secret=shop.widget_secret, external_id=customer.external_id)
    visitor = widget_session_start(
        shop=shop, identity=Identity(customer.external_id, customer.email, customer.name, mac)
    ).visitor
    ticket_merge(source=source, target=target, actor=logistics_agent)

    posted = widget_message_send(visitor=visitor, client_msg_id="w-1", body="Hello again", ticket_id=source.pk)

    assert posted.created and posted.message.ticket_id == target.pk
