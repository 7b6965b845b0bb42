"""SLA policies and calendars in the admin: managers edit, a calendar that
cannot be read is refused naming the problem, clocks are read only and
scoped to the tickets an agent may see."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from helpdesk.tickets.models import BusinessCalendar, SlaClock
from tests.factories import make_ticket


def signed_in(agent) -> Client:
    agent.user.is_staff = True
    agent.user.save()
    client = Client()
    client.force_login(agent.user)
    return client


def test_a_manager_adds_a_calendar_with_split_shifts(manager):
    response = signed_in(manager).post(
        reverse("admin:tickets_businesscalendar_add"),
        {"name": "Berlin", "time_zone": "Europe/Berlin", "hours": "Mon-Fri 09:00-12:00,13:00-18:00", "holidays": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert BusinessCalendar.objects.get(name="Berlin").time_zone == "Europe/Berlin"


def test_a_calendar_that_cannot_be_read_is_refused_naming_the_part(manager):
    response = signed_in(manager).post(
        reverse("admin:tickets_businesscalendar_add"),
        {"name": "Bad", "time_zone": "Europe/Berlim", "hours": "Mon-Fri 09:00-18:00", "holidays": ""},
    )

    assert response.status_code == 200
    assert "is not an IANA time zone" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Bad").exists()


def test_an_agent_reads_policies_and_only_the_clocks_of_their_teams(logistics_agent, customer, logistics, returns):
    mine = make_ticket(customer, logistics)
    make_ticket(customer, returns)
    client = signed_in(logistics_agent)

    assert client.get(reverse("admin:tickets_slapolicy_changelist")).status_code == 200
    assert client.post(reverse("admin:tickets_businesscalendar_add"), {"name": "X"}).status_code == 403
    clocks = client.get(reverse("admin:tickets_slaclock_changelist")).context["cl"].queryset
    assert list(clocks) == list(SlaClock.objects.filter(ticket=mine))
