"""Personas of the desk: a shop with customers, and the people who answer them.

logistics_agent and returns_agent each see only their team's tickets;
team_lead leads logistics; manager sees everything.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from helpdesk.customers.models import Customer, Shop
from helpdesk.tickets.models import Agent, AgentRole, Team
from tests.factories import make_agent, make_customer, make_shop, make_team


@pytest.fixture
def shop_and_key(db) -> tuple[Shop, str]:
    return make_shop("acme")


@pytest.fixture
def shop(shop_and_key) -> Shop:
    return shop_and_key[0]


@pytest.fixture
def logistics(db) -> Team:
    return make_team("logistics")


@pytest.fixture
def returns(db) -> Team:
    return make_team("returns")


@pytest.fixture
def logistics_agent(logistics) -> Agent:
    return make_agent("lena", teams=(logistics,))


@pytest.fixture
def returns_agent(returns) -> Agent:
    return make_agent("rami", teams=(returns,))


@pytest.fixture
def team_lead(logistics) -> Agent:
    return make_agent("tal", role=AgentRole.TEAM_LEAD, teams=(logistics,))


@pytest.fixture
def manager(db) -> Agent:
    return make_agent("maya", role=AgentRole.MANAGER)


@pytest.fixture
def customer(shop) -> Customer:
    return make_customer(shop, name="Dana Cohen", email="dana@example.com")


def api_client_for(agent: Agent) -> APIClient:
    client = APIClient()
    client.force_login(agent.user)
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()
