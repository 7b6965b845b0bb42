"""The desk pages and the demo shop page, rendered by Django (no browser)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from helpdesk.customers.identity import identity_hmac
from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.services import ticket_assign, ticket_note, ticket_reply
from tests.factories import make_customer, make_order, make_shop, make_ticket

DESK = "/inbox/"


def client_for(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def detail(ticket: Ticket) -> str:
    return f"/desk/tickets/{ticket.pk}/"


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="ticket-row" data-ticket-id="(\d+)"', html)]


@pytest.fixture
def logistics_ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics, subject="Parcel late")


@pytest.fixture
def returns_ticket(customer, returns) -> Ticket:
    return make_ticket(customer, returns, subject="Refund please")


# ---- who may open the desk ----


@pytest.mark.parametrize("path", [DESK, "/desk/tickets/1/"])
def test_the_desk_sends_anonymous_visitors_to_the_login_page(db, path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.parametrize("path", [DESK, "/desk/tickets/1/"])
def test_a_signed_in_user_who_is_not_an_agent_gets_403(db, path):
    client = Client()
    client.force_login(User.objects.create_user("shopper", password="pw"))

    response = client.get(path)

    assert response.status_code == 403


# ---- the ticket list ----


def test_the_list_shows_only_the_agents_teams_tickets_newest_first(logistics_agent, customer, logistics, returns):
    first = make_ticket(customer, logistics, subject="Parcel late")
    make_ticket(customer, returns, subject="Refund please")
    second = make_ticket(customer, logistics, subject="Wrong address")

    response = client_for(logistics_agent).get(DESK)

    assert response.status_code == 200
    html = response.content.decode()
    assert row_ids(html) == [second.pk, first.pk]
    assert "Refund please" not in html
    assert 'data-page="ticket-list"' in html
    assert "desk/desk.js" in html


def test_a_manager_sees_every_team_in_the_list(manager, logistics_ticket, returns_ticket):
    html = client_for(manager).get(DESK).content.decode()

    assert row_ids(html) == [returns_ticket.pk, logistics_ticket.pk]


def test_the_list_query_count_does_not_grow_with_tickets(
    logistics_agent, customer, logistics, django_assert_num_queries
):
    for n in range(5):
        make_ticket(customer, logistics, subject=f"Question {n}")
    client = client_for(logistics_agent)

    # session, user, agent, tickets (with customer, team, assignee, order, unread), their tags,
    # queue counts, teams; the filter bar's agents, teams and tags
    with django_assert_num_queries(10):
        response = client.get(DESK)

    assert len(row_ids(response.content.decode())) == 5


# ---- one ticket ----


def test_another_teams_ticket_is_a_404(returns_agent, logistics_ticket):
    response = client_for(returns_agent).get(detail(logistics_ticket))

    assert response.status_code == 404


def test_a_ticket_that_does_not_exist_is_a_404(logistics_agent):
    assert client_for(logistics_agent).get("/desk/tickets/999999/").status_code == 404


def test_the_ticket_page_shows_the_conversation_with_notes_for_agents(logistics_agent, logistics_ticket, customer):
    ticket_reply(ticket=logistics_ticket, agent=logistics_agent, body="It left the warehouse today.")
    ticket_note(ticket=logistics_ticket, agent=logistics_agent, body="Carrier says Kassel hub is slow")

    response = client_for(logistics_agent).get(detail(logistics_ticket))

    assert response.status_code == 200
    html = response.content.decode()
    messages = re.findall(
        r'data-testid="message" data-id="\d+" data-seq="(\d+)" data-author="(\w+)" data-internal="(\w+)"', html
    )
    assert messages == [("1", "customer", "false"), ("2", "agent", "false"), ("3", "agent", "true")]
    assert "Where is my parcel?" in html
    assert "It left the warehouse today." in html
    assert "Carrier says Kassel hub is slow" in html
    assert 'data-have="3"' in html  # desk.js syncs from here
    assert customer.name in html and customer.email in html
    assert 'data-testid="unverified"' not in html  # a shop customer is verified


def test_an_anonymous_chat_contact_is_marked_unverified_with_its_order(logistics_agent, shop, logistics):
    contact = make_customer(shop, name="Someone", email="someone@example.com", verified=False)
    ticket = make_ticket(contact, logistics, order=make_order(contact, number="A-1234"))

    html = client_for(logistics_agent).get(detail(ticket)).content.decode()

    assert 'data-testid="unverified"' in html
    assert "A-1234" in html


# ---- the demo shop page ----


@pytest.fixture
def demo_shop(db):
    return make_shop("demo")[0]


def test_the_demo_shop_is_a_404_when_turned_off(settings, demo_shop):
    settings.DEMO_SHOP_PAGE = False

    assert Client().get("/demo/shop/").status_code == 404


def test_the_demo_shop_signs_in_a_customer_with_the_shops_hmac(settings, demo_shop):
    settings.DEMO_SHOP_PAGE = True
    dana = make_customer(demo_shop, external_id="cus_1001", name="Dana Cohen", email="dana@example.com")

    response = Client().get("/demo/shop/", {"customer": "cus_1001"}, HTTP_HOST="localhost:8000")

    assert response.status_code == 200
    html = response.content.decode()
    mac = identity_hmac(secret=demo_shop.widget_secret, external_id="cus_1001")
    assert mac in html
    assert response.context["widget_config"] == {
        "identity": {"id": "cus_1001", "email": dana.email, "name": dana.name, "hmac": mac}
    }
    # Another origin than the page's: localhost becomes 127.0.0.1, scheme and port kept.
    assert '<script src="http://127.0.0.1:8000/static/widget/widget.js" data-shop="demo" async>' in html


def test_the_demo_shop_without_a_known_customer_is_anonymous(settings, demo_shop):
    settings.DEMO_SHOP_PAGE = True
    settings.ALLOWED_HOSTS = ["shop.test"]
    make_customer(demo_shop, external_id="cus_1001")

    for query in ({}, {"customer": "nobody"}):
        response = Client().get("/demo/shop/", query, HTTP_HOST="shop.test")
        assert response.context["widget_config"] == {}
        assert '<script src="http://shop.test/static/widget/widget.js"' in response.content.decode()


def test_the_demo_shop_never_signs_in_another_shops_customer(settings, demo_shop):
    settings.DEMO_SHOP_PAGE = True
    other, _ = make_shop("other")
    make_customer(other, external_id="cus_1001")

    response = Client().get("/demo/shop/", {"customer": "cus_1001"})

    assert response.context["widget_config"] == {}


def test_home_links_the_desk_and_the_demo_shop_on_another_origin(settings, db):
    settings.DEMO_SHOP_PAGE = True

    html = Client().get("/", HTTP_HOST="127.0.0.1:8000").content.decode()

    assert 'href="/inbox/"' in html
    assert 'href="http://localhost:8000/demo/shop/"' in html


def test_home_leaves_out_the_demo_shop_when_it_is_off(settings, db):
    settings.DEMO_SHOP_PAGE = False

    assert "/demo/shop/" not in Client().get("/").content.decode()


def test_the_demo_shop_warns_when_the_desk_does_not_allow_its_origin(settings, demo_shop):
    settings.DEMO_SHOP_PAGE = True
    settings.WIDGET_ALLOWED_ORIGINS = ["http://localhost:8000"]

    allowed = Client().get("/demo/shop/", HTTP_HOST="localhost:8000").content.decode()
    refused = Client().get("/demo/shop/", HTTP_HOST="127.0.0.1:8000").content.decode()

    assert "WIDGET_ALLOWED_ORIGINS" not in allowed
    assert "WIDGET_ALLOWED_ORIGINS" in refused


def test_queues_show_their_counts_and_a_queue_lists_only_its_tickets(logistics_agent, customer, logistics, returns):
    mine = make_ticket(customer, logistics, subject="Mine")
    ticket_assign(ticket=mine, actor=None, assignee=logistics_agent)
    make_ticket(customer, logistics, subject="Nobody's")
    make_ticket(customer, returns, subject="Another team's")
    client = client_for(logistics_agent)

    page = client.get(DESK, {"queue": "mine"}).content.decode()

    assert row_ids(page) == [mine.pk]
    assert 'data-queue="mine">1<' in page and 'data-queue="unassigned">1<' in page
    assert 'data-queue="all"' not in page  # managers only
    nonsense = client.get(DESK, {"queue": "nonsense"})
    assert nonsense.status_code == 400 and row_ids(nonsense.content.decode()) == []


def test_the_search_box_narrows_the_list_and_keeps_the_queue(logistics_agent, customer, logistics):
    tent = make_ticket(customer, logistics, subject="Tent poles missing")
    make_ticket(customer, logistics, subject="Stove leaks")
    client = client_for(logistics_agent)

    page = client.get(DESK, {"q": "poles", "queue": "unassigned"}).content.decode()

    assert row_ids(page) == [tent.pk]
    assert 'name="queue" value="unassigned"' in page and 'value="poles"' in page
