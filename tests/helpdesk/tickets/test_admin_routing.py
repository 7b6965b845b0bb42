"""Managers order and edit routing rules and keyword sets in the admin; other
agents may read them; bad input is refused with the field named."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk.tickets.models import CategoryKeywords, RoutingRule


def signed_in(agent) -> Client:
    """A desk agent with admin access, not a superuser: rights come from the desk role."""
    agent.user.is_staff = True
    agent.user.save()
    client = Client()
    client.force_login(agent.user)
    return client


def rule_form(**fields) -> dict:
    data = {"name": "Logistics", "position": "10", "active": "on", "keywords": "", "tags": "", "priority": ""}
    data.update(fields)
    return data


def test_a_manager_adds_a_rule_with_conditions(manager, logistics):
    response = signed_in(manager).post(
        reverse("admin:tickets_routingrule_add"),
        rule_form(categories=["delivery", "damaged"], channels=["chat"], languages=["he"], team=logistics.pk),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get(name="Logistics")
    assert (rule.categories, rule.channels, rule.languages, rule.team) == (
        ["delivery", "damaged"],
        ["chat"],
        ["he"],
        logistics,
    )


def test_the_rule_list_reads_as_sentences(manager, logistics):
    RoutingRule.objects.create(name="Angry", position=1, sentiments=["negative"], keywords="refund\nangry")

    html = signed_in(manager).get(reverse("admin:tickets_routingrule_changelist")).content.decode()

    assert "sentiments: negative; words: refund, angry" in html
    assert "every other ticket" in html  # the default rule, last


def test_an_unknown_choice_is_refused_with_the_field_named(manager):
    response = signed_in(manager).post(reverse("admin:tickets_routingrule_add"), rule_form(categories=["teleport"]))

    assert response.status_code == 200
    assert "teleport is not one of the available choices" in response.content.decode()
    assert not RoutingRule.objects.filter(name="Logistics").exists()


def test_the_default_rule_takes_no_conditions_and_cannot_be_deleted(manager):
    default = RoutingRule.objects.get(is_default=True)
    client = signed_in(manager)

    response = client.post(
        reverse("admin:tickets_routingrule_change", args=[default.pk]),
        rule_form(name=default.name, is_default="on", channels=["chat"], position="1000"),
    )
    assert response.status_code == 200
    assert "The default rule matches every ticket" in response.content.decode()

    assert client.get(reverse("admin:tickets_routingrule_delete", args=[default.pk])).status_code == 403


def test_agents_may_read_rules_but_not_change_them(logistics_agent, team_lead):
    rule = RoutingRule.objects.get(is_default=True)
    for agent in (logistics_agent, team_lead):
        client = signed_in(agent)
        assert client.get(reverse("admin:tickets_routingrule_changelist")).status_code == 200
        assert client.post(reverse("admin:tickets_routingrule_add"), rule_form()).status_code == 403
        response = client.post(reverse("admin:tickets_routingrule_change", args=[rule.pk]), rule_form(name="Mine"))
        assert response.status_code == 403
    assert not RoutingRule.objects.filter(name__in=["Logistics", "Mine"]).exists()


def test_a_manager_edits_a_keyword_set_and_empty_lines_are_dropped(manager):
    row = CategoryKeywords.objects.get(category="delivery", language="he")

    response = signed_in(manager).post(
        reverse("admin:tickets_categorykeywords_change", args=[row.pk]),
        {"category": "delivery", "language": "he", "keywords": "משלוח\n\n  חבילה  \n"},
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.keyword_list == ["משלוח", "חבילה"]


@pytest.mark.parametrize("keywords", ["!!!\nparcel", "   "])
def test_a_keyword_set_without_words_is_refused(manager, keywords):
    row = CategoryKeywords.objects.get(category="delivery", language="en")

    response = signed_in(manager).post(
        reverse("admin:tickets_categorykeywords_change", args=[row.pk]),
        {"category": "delivery", "language": "en", "keywords": keywords},
    )

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
