"""surveys.policy: which survey a solved ticket gets, and score groups. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from surveys import policy
from surveys.policy import PolicyRule

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def rule(id: int, team_id: int | None = None, channel: str = "", **fields: object) -> PolicyRule:
    values: dict[str, Any] = {
        "kind": "csat",
        "delay_minutes": 0,
        "sampling_percent": 100,
        "only_delivered_orders": False,
        "active": True,
    }
    values.update(fields)
    return PolicyRule(id=id, team_id=team_id, channel=channel, **values)


def decide(rules: list[PolicyRule], **overrides: object):
    args: dict[str, Any] = {
        "ticket_id": 1,
        "team_id": 7,
        "channel": "chat",
        "order_delivered": False,
        "last_surveyed_at": None,
        "cooldown_days": 30,
        "now": NOW,
    }
    args.update(overrides)
    return policy.survey_decide(rules, **args)


FALLBACK = rule(1)
CHAT = rule(2, channel="chat")
TEAM = rule(3, team_id=7)
TEAM_CHAT = rule(4, team_id=7, channel="chat")
OTHER_TEAM = rule(5, team_id=8, channel="chat")


@pytest.mark.parametrize(
    ("rules", "team_id", "channel", "expected"),
    [
        ([FALLBACK, CHAT, TEAM, TEAM_CHAT, OTHER_TEAM], 7, "chat", 4),
        ([FALLBACK, CHAT, TEAM, OTHER_TEAM], 7, "chat", 3),
        ([FALLBACK, CHAT, OTHER_TEAM], 7, "chat", 2),
        ([FALLBACK, OTHER_TEAM], 7, "chat", 1),
        ([FALLBACK, CHAT, TEAM_CHAT], 7, "email", 1),
        ([CHAT, TEAM_CHAT], 7, "email", None),
        ([OTHER_TEAM], 7, "chat", None),
        ([], 7, "chat", None),
        # Order does not matter.
        ([TEAM_CHAT, TEAM, CHAT, FALLBACK], 7, "chat", 4),
        ([OTHER_TEAM, CHAT], 8, "chat", 5),
    ],
)
def test_the_most_specific_policy_wins(rules, team_id, channel, expected) -> None:
    picked = policy.policy_pick(rules, team_id=team_id, channel=channel)
    assert (picked.id if picked else None) == expected


def test_an_inactive_specific_policy_switches_surveys_off_for_its_scope() -> None:
    rules = [CHAT, rule(9, team_id=7, channel="chat", active=False)]
    assert decide(rules) == policy.Decision(False, "policy off", rules[1])
    assert decide(rules, team_id=8).send


def test_no_policy_no_survey() -> None:
    assert decide([]).reason == "no policy"


def test_kind_and_delay_come_from_the_policy() -> None:
    nps_later = rule(1, channel="email", kind="nps", delay_minutes=3 * 24 * 60)
    decision = decide([nps_later], channel="email")
    assert decision.send and decision.kind == "nps"
    assert decision.send_at == NOW + timedelta(days=3)
    assert decide([CHAT]).send_at == NOW


def test_only_delivered_orders() -> None:
    rules = [rule(1, only_delivered_orders=True)]
    assert decide(rules, order_delivered=False).reason == "order not delivered"
    assert decide(rules, order_delivered=True).send


@pytest.mark.parametrize(
    ("days_ago", "cooldown", "sent"),
    [(29, 30, False), (30, 30, True), (31, 30, True), (0, 0, True), (1, 2, False), (None, 30, True)],
)
def test_cooldown_per_customer(days_ago, cooldown, sent) -> None:
    last = NOW - timedelta(days=days_ago) if days_ago is not None else None
    decision = decide([CHAT], last_surveyed_at=last, cooldown_days=cooldown)
    assert decision.send is sent
    if not sent:
        assert decision.reason == "cooldown"


def test_a_survey_scheduled_in_the_future_counts_for_the_cooldown() -> None:
    assert decide([CHAT], last_surveyed_at=NOW + timedelta(days=3)).reason == "cooldown"


def test_sampling_is_a_fixed_draw_per_ticket() -> None:
    draws = [policy.sample_draw(ticket_id) for ticket_id in range(1, 2001)]
    assert all(0 <= d < 100 for d in draws)
    assert draws == [policy.sample_draw(ticket_id) for ticket_id in range(1, 2001)]
    # Evenly spread: a 30 % policy surveys about 30 % of tickets.
    surveyed = sum(decide([rule(1, sampling_percent=30)], ticket_id=t).send for t in range(1, 2001))
    assert 500 < surveyed < 700


@pytest.mark.parametrize("percent", [0, 100])
def test_sampling_bounds(percent: int) -> None:
    results = {decide([rule(1, sampling_percent=percent)], ticket_id=t).send for t in range(1, 300)}
    assert results == {percent == 100}
    if percent == 0:
        assert decide([rule(1, sampling_percent=0)]).reason == "not sampled"


def test_the_draw_decides_exactly_at_the_rate() -> None:
    ticket_id = 42
    draw = policy.sample_draw(ticket_id)
    assert not decide([rule(1, sampling_percent=draw)], ticket_id=ticket_id).send
    assert decide([rule(1, sampling_percent=draw + 1)], ticket_id=ticket_id).send


CSAT = {1: "low", 2: "low", 3: "neutral", 4: "happy", 5: "happy"}
NPS = {**dict.fromkeys(range(7), "detractor"), 7: "passive", 8: "passive", 9: "promoter", 10: "promoter"}


def test_csat_groups_every_score() -> None:
    assert {score: policy.csat_group(score) for score in range(1, 6)} == CSAT
    assert [s for s in range(1, 6) if policy.is_unhappy("csat", s)] == [1, 2]
    assert [s for s in range(1, 6) if policy.is_happy("csat", s)] == [4, 5]
    assert [s for s in range(1, 6) if policy.is_thankable("csat", s)] == [3, 4, 5]


def test_nps_groups_every_score() -> None:
    assert {score: policy.nps_group(score) for score in range(11)} == NPS
    assert [s for s in range(11) if policy.is_unhappy("nps", s)] == list(range(7))
    assert [s for s in range(11) if policy.is_happy("nps", s)] == [9, 10]
    assert [s for s in range(11) if policy.is_thankable("nps", s)] == [7, 8, 9, 10]


@pytest.mark.parametrize("score", [0, 6, -1, 11])
def test_csat_out_of_range(score: int) -> None:
    with pytest.raises(ValueError, match="1-5"):
        policy.csat_group(score)


@pytest.mark.parametrize("score", [-1, 11, 100])
def test_nps_out_of_range(score: int) -> None:
    with pytest.raises(ValueError, match="0-10"):
        policy.nps_group(score)
