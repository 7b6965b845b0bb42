"""Which survey a solved ticket gets, and what a score means. Pure: no ORM."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)

CsatGroup = Literal["low", "neutral", "happy"]
NpsGroup = Literal["detractor", "passive", "promoter"]


@dataclass(frozen=True)
class PolicyRule:
    """A survey policy as the pure code sees it. ``team_id`` None and
    ``channel`` "" match anything."""

    id: int
    team_id: int | None
    channel: str
    kind: str
    delay_minutes: int
    sampling_percent: int
    only_delivered_orders: bool
    active: bool


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str  # why not, or "sent"
    rule: PolicyRule | None = None
    kind: str = ""
    send_at: datetime | None = None


def policy_pick(rules: Iterable[PolicyRule], *, team_id: int, channel: str) -> PolicyRule | None:
    """The most specific rule for the team and channel: team and channel,
    then team, then channel, then the fallback with neither. Inactive rules
    take part: an inactive specific rule switches surveys off for its scope."""
    best: tuple[int, PolicyRule] | None = None
    for rule in rules:
        if rule.team_id is not None and rule.team_id != team_id:
            continue
        if rule.channel and rule.channel != channel:
            continue
        rank = (2 if rule.team_id is not None else 0) + (1 if rule.channel else 0)
        if best is None or rank > best[0]:
            best = (rank, rule)
    return best[1] if best else None


def sample_draw(ticket_id: int) -> int:
    """A number 0-99 fixed for the ticket: the same ticket always draws the
    same, so a re-solved ticket is sampled the same way, and the draw is
    spread evenly over ticket ids."""
    digest = hashlib.sha256(f"survey-sample:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def survey_decide(
    rules: Iterable[PolicyRule],
    *,
    ticket_id: int,
    team_id: int,
    channel: str,
    order_delivered: bool,
    last_surveyed_at: datetime | None,
    cooldown_days: int,
    now: datetime,
) -> Decision:
    """Whether a ticket solved ``now`` is surveyed, with which kind and when.
    ``last_surveyed_at``: the customer's newest survey of another ticket."""
    rule = policy_pick(rules, team_id=team_id, channel=channel)
    if rule is None:
        return Decision(False, "no policy")
    if not rule.active:
        return Decision(False, "policy off", rule)
    if rule.only_delivered_orders and not order_delivered:
        return Decision(False, "order not delivered", rule)
    if last_surveyed_at is not None and now - last_surveyed_at < timedelta(days=cooldown_days):
        return Decision(False, "cooldown", rule)
    if sample_draw(ticket_id) >= rule.sampling_percent:
        return Decision(False, "not sampled", rule)
    return Decision(True, "sent", rule, rule.kind, now + timedelta(minutes=rule.delay_minutes))


def score_range(kind: str) -> range:
    return CSAT_RANGE if kind == "csat" else NPS_RANGE


def csat_group(score: int) -> CsatGroup:
    if score not in CSAT_RANGE:
        raise ValueError(f"A CSAT score is 1-5, got {score}")
    return "low" if score <= 2 else "neutral" if score == 3 else "happy"


def nps_group(score: int) -> NpsGroup:
    if score not in NPS_RANGE:
        raise ValueError(f"An NPS score is 0-10, got {score}")
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


def is_unhappy(kind: str, score: int) -> bool:
    """A low CSAT (1-2) or an NPS detractor (0-6): asks for a reason and opens a follow-up."""
    return csat_group(score) == "low" if kind == "csat" else nps_group(score) == "detractor"


def is_happy(kind: str, score: int) -> bool:
    """CSAT 4-5 or an NPS promoter: recovers an earlier detractor."""
    return csat_group(score) == "happy" if kind == "csat" else nps_group(score) == "promoter"


def is_thankable(kind: str, score: int) -> bool:
    """Passives and promoters (and CSAT 3-5): thanked when SURVEY_THANKS_MESSAGE is set."""
    return not is_unhappy(kind, score)
