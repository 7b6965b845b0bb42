"""One line of text for each ticket event, as the conversation shows it.

Pure: no ORM. A kind this module does not know yet (routing, SLA, surveys
added later) still gets a line, from its label, so new kinds show up in the
thread without touching the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.tickets.models import (
    EventKind,
    SentimentLabel,
    SentimentTrend,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)

# These duplicate the messages they accompany; the thread shows the messages.
HIDDEN_KINDS = frozenset({EventKind.MESSAGE, EventKind.REPLIED, EventKind.NOTE, EventKind.FIRST_RESPONSE})

_PRIORITY_RANK = {value: rank for rank, value in enumerate(TicketPriority.values)}
# Reasons the services record for changes made by hand: not worth repeating.
_PLAIN_REASONS = frozenset({"", "set by agent"})


def _label(choices: Mapping[str, str], value: Any) -> str:
    text = str(value) if value is not None else ""
    return choices.get(text, text) or "none"


def _reason(data: Mapping[str, Any]) -> str:
    reason = str(data.get("reason") or "").strip()
    return "" if reason in _PLAIN_REASONS else reason


def _by(actor: str) -> str:
    return f" by {actor}" if actor else ""


def event_text(kind: str, data: Mapping[str, Any], *, actor: str = "", teams: Mapping[str, str] | None = None) -> str:
    """The line for one event. ``actor`` is the acting agent's name ("" for the
    system or a customer), ``teams`` maps team slugs to names."""
    teams = teams or {}
    who = actor or "The desk"
    if kind == EventKind.OPENED:
        channel = _label(dict(TicketChannel.choices), data.get("channel"))
        text = f"Opened via {channel.lower()}"
        if data.get("team"):
            text += f" in {teams.get(data['team'], data['team'])}"
        if data.get("claimed_order_number"):
            text += f"; the customer gave order number {data['claimed_order_number']}"
        return text
    if kind == EventKind.ASSIGNED:
        name = str(data.get("name") or "")
        reason = _reason(data)  # the assignment engine's: "auto: least loaded, 1 of 3 chats"
        why = f" ({reason})" if reason else ""
        if not name:
            return f"{who} unassigned this{why}"
        if actor and actor == name:
            return f"{actor} took this"
        return f"{who} assigned this to {name}{why}"
    if kind == EventKind.TEAM_CHANGED:
        old_team, new_team = (teams.get(str(data.get(k)), str(data.get(k) or "")) for k in ("old", "new"))
        return f"{who} moved this from {old_team} to {new_team}"
    if kind == EventKind.STATUS_CHANGED:
        labels = dict(TicketStatus.choices)
        text = f"Status: {_label(labels, data.get('old'))} → {_label(labels, data.get('new'))}"
        reason = _reason(data)
        return text + (f" ({reason})" if reason else "") + _by(actor)
    if kind == EventKind.PRIORITY_CHANGED:
        new_label = _label(dict(TicketPriority.choices), data.get("new"))
        rank_old = _PRIORITY_RANK.get(str(data.get("old")), -1)
        rank_new = _PRIORITY_RANK.get(str(data.get("new")), -1)
        verb = "raised" if rank_new > rank_old else "lowered"
        reason = _reason(data)
        return f"Priority {verb} to {new_label}" + (f": {reason}" if reason else "") + _by(actor)
    if kind == EventKind.CATEGORY_CHANGED:
        labels = dict(TicketCategory.choices)
        category = data.get("new")
        text = f"Category: {_label(labels, category)}" if category else "Category cleared"
        reason = _reason(data)
        return text + (f" ({reason})" if reason else "") + _by(actor)
    if kind == EventKind.TAGS_CHANGED:
        parts = [f"+{name}" for name in data.get("added") or []] + [f"-{name}" for name in data.get("removed") or []]
        return "Tags: " + (" ".join(parts) or "unchanged") + _by(actor)
    if kind == EventKind.ORDER_LINKED:
        number = data.get("number")
        if number:
            return f"Linked to order #{number}" + _by(actor)
        before = data.get("old")
        return (f"Unlinked from order #{before}" if before else "Unlinked from its order") + _by(actor)
    if kind == EventKind.MERGED:
        if data.get("into"):
            subject = data.get("into_subject")
            return f"Merged into #{data['into']}" + (f" “{subject}”" if subject else "") + _by(actor)
        subject = data.get("from_subject")
        return f"#{data.get('from')}" + (f" “{subject}”" if subject else "") + " was merged into this" + _by(actor)
    if kind == EventKind.ROUTED:
        rule = data.get("rule")
        text = (
            f"Routed by “{rule}”: {data.get('reason') or 'no reason recorded'}"
            if rule
            else "Not routed: no rule matched"
        )
        if data.get("team"):
            text += f"; to {teams.get(str(data['team']), data['team'])}"
        if data.get("priority"):
            text += f"; priority {_label(dict(TicketPriority.choices), data['priority']).lower()}"
        if data.get("tags"):
            text += "; tags " + " ".join(f"+{name}" for name in data["tags"])
        category = data.get("category_label") or _label(dict(TicketCategory.choices), data.get("category"))
        return text + f". Category {category}: {data.get('category_reason') or 'kept'}"
    if kind == EventKind.SENTIMENT_CHANGED:
        moods = dict(SentimentLabel.choices)
        old = f"{_label(moods, data.get('old'))} → " if data.get("old") else ""
        text = f"Mood: {old}{_label(moods, data.get('new'))}"
        trend = data.get("trend")
        return text + (
            f" ({_label(dict(SentimentTrend.choices), trend).lower()} since the first message)" if trend else ""
        )
    if kind == EventKind.SENTIMENT_CORRECTED:
        moods = dict(SentimentLabel.choices)
        seq = f" of message {data['seq']}" if data.get("seq") else ""
        old = _label(moods, data.get("old"))
        return f"Mood tag{seq} corrected from {old} to {_label(moods, data.get('new'))}" + _by(actor)
    if kind == EventKind.ESCALATED:
        return "Escalated to the team lead" + (f": {_reason(data)}" if _reason(data) else "")
    if kind == EventKind.RECOVERED:
        return "Recovered: the customer's mood turned from negative to positive"
    # A kind added later: its label, or its value made readable.
    label = dict(EventKind.choices).get(kind) or kind.replace("_", " ").replace(".", " ").strip().capitalize()
    reason = _reason(data)
    return label + (f": {reason}" if reason else "") + _by(actor)
