"""The admin: managers edit survey policies, agents read them; surveys and
answers are read only and scoped to the tickets an agent may see."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from helpdesk.tickets.models import Agent
from surveys.models import Survey, SurveyPolicy
from surveys.services import survey_answer
from tests.factories import make_customer, make_ticket
from tests.surveys.conftest import solve


def staff_client(agent: Agent) -> Client:
    agent.user.is_staff = True
    agent.user.save()
    client = Client()
    client.force_login(agent.user)
    return client


def test_managers_edit_policies_and_agents_only_read_them(manager, logistics_agent) -> None:
    default = SurveyPolicy.objects.get()
    url = reverse("admin:surveys_surveypolicy_change", args=[default.pk])
    form = {
        "name": default.name,
        "team": "",
        "channel": "chat",
        "kind": "nps",
        "delay_minutes": "0",
        "sampling_percent": "50",
        "active": "on",
    }

    refused = staff_client(logistics_agent).post(url, form)
    assert refused.status_code == 403
    assert staff_client(manager).post(url, form).status_code == 302
    default.refresh_from_db()
    assert (default.kind, default.sampling_percent) == ("nps", 50)

    too_many = staff_client(manager).post(url, {**form, "sampling_percent": "150"})
    assert too_many.status_code == 200 and "less than or equal to 100" in too_many.content.decode()


def test_agents_read_their_teams_surveys_only_and_answers_are_escaped(
    customer, logistics, returns, logistics_agent, returns_agent
) -> None:
    ticket = make_ticket(customer, logistics)
    solve(ticket, logistics_agent)
    other = make_ticket(make_customer(customer.shop), returns)
    solve(other, returns_agent)
    mine = Survey.objects.get(ticket=ticket)
    survey_answer(survey=mine, score=4, comment="<script>alert(1)</script>")
    client = staff_client(logistics_agent)

    listed = client.get(reverse("admin:surveys_survey_changelist")).content.decode()
    assert f"#{ticket.pk} " in listed and f"#{other.pk} " not in listed
    page = client.get(reverse("admin:surveys_survey_change", args=[mine.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)</script>" not in html
    assert 'name="_save"' not in html
    foreign = Survey.objects.get(ticket=other)
    assert client.get(reverse("admin:surveys_survey_change", args=[foreign.pk])).status_code == 302
