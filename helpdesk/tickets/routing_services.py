"""Routing: when a ticket opens or reopens, give it a category and apply the
first matching routing rule (team, priority, tags), recording the decision and
its reasons in the ticket's history. The arithmetic is in
helpdesk.tickets.routing; this module gathers the facts and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.customers.models import Order
from helpdesk.customers.selectors import customer_metrics_get
from helpdesk.tickets import routing
from helpdesk.tickets.assignment_services import assignment_request
from helpdesk.tickets.hours import hours_parse
from helpdesk.tickets.models import (
    BusinessHoursCondition,
    CategoryKeywords,
    EventKind,
    RoutingRule,
    Tag,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit

# Without a linked order, routing looks at the customer's newest order this recent.
RECENT_ORDER_DAYS = 60


@dataclass(frozen=True)
class RoutingDecision:
    category: str
    category_reason: str
    rule: RoutingRule | None
    reason: str


def keyword_sets() -> dict[str, dict[str, tuple[str, ...]]]:
    """The editable keyword sets, or the shipped defaults when none are stored."""
    rows = list(CategoryKeywords.objects.all())
    if not rows:
        return {category: dict(by_language) for category, by_language in routing.DEFAULT_KEYWORDS.items()}
    sets: dict[str, dict[str, tuple[str, ...]]] = {}
    for row in rows:
        sets.setdefault(row.category, {})[row.language] = tuple(row.keyword_list)
    return sets


def _conditions(rule: RoutingRule) -> routing.Conditions:
    return routing.Conditions(
        categories=frozenset(rule.categories),
        keywords=tuple(rule.keyword_list),
        channels=frozenset(rule.channels),
        sentiments=frozenset(rule.sentiments),
        tiers=frozenset(rule.tiers),
        min_lifetime_value=rule.min_lifetime_value,
        order_statuses=frozenset(rule.order_statuses),
        languages=frozenset(rule.languages),
        business_hours=None if not rule.business_hours else rule.business_hours == BusinessHoursCondition.INSIDE,
    )


def _order_for(ticket: Ticket, now: datetime) -> Order | None:
    if ticket.order_id is not None:
        return ticket.order
    return (
        Order.objects.filter(customer_id=ticket.customer_id, placed_at__gte=now - timedelta(days=RECENT_ORDER_DAYS))
        .order_by("-placed_at", "-id")
        .first()
    )


@transaction.atomic
def ticket_route(*, ticket: Ticket, text: str, trigger: str, now: datetime | None = None) -> RoutingDecision:
    """Categorize the ticket from ``text`` (its subject and the customer's words,
    or the message that reopened it) and its order, then apply the first active rule
    whose conditions hold: move it to the rule's team (unassigned), set its
    priority, add its tags. One ``routed`` event records the rule and why.

    Precondition: the caller holds the ticket's row (it was just created, or is
    locked by the reopening message)."""
    now = now or timezone.now()
    order = _order_for(ticket, now)
    category, category_reason = ticket.category, "kept: set before"
    # A reopening message may be about something new; a vague one keeps the category.
    if not category or trigger == "reopened":
        order_facts = None
        if order is not None:
            order_facts = routing.OrderFacts(
                number=order.number,
                status=order.status,
                expected_delivery_at=order.expected_delivery_at,
                delivered_at=order.delivered_at,
            )
        decided = routing.categorize(text, now=now, order=order_facts, keywords=keyword_sets())
        if not category or decided.category != routing.OTHER:
            category, category_reason = decided.category, decided.reason
        ticket.category = category
    customer = ticket.customer
    facts = routing.Facts(
        category=category,
        text=text,
        channel=ticket.channel,
        language=routing.text_language(text),
        # "" until the first message is tagged: ticket_route_tagged routes again then.
        sentiment=ticket.sentiment,
        tier=customer.tier,
        lifetime_value=customer_metrics_get(customer=customer).lifetime_value if customer.pk else Decimal(0),
        order_status=order.status if order is not None else "",
        in_business_hours=hours_parse(settings.BUSINESS_HOURS).is_open(timezone.localtime(now)),
    )
    rules = list(
        RoutingRule.objects.filter(active=True).select_related("team").order_by("is_default", "position", "id")
    )
    by_id = {rule.pk: rule for rule in rules}
    # The default rule matches whatever its fields say: it is the last resort.
    specs = [
        routing.Rule(rule.pk, rule.name, routing.Conditions() if rule.is_default else _conditions(rule))
        for rule in rules
    ]
    match = routing.rule_first_match(specs, facts)
    rule, reason = (by_id[match[0].id], match[1]) if match else (None, "no routing rule matched")
    changes: dict[str, str | list[str]] = {}
    if rule is not None:
        if rule.team is not None and rule.team_id != ticket.team_id:
            ticket.team, ticket.assignee = rule.team, None
            changes["team"] = rule.team.slug
        if rule.priority and rule.priority != ticket.priority:
            ticket.priority = rule.priority
            changes["priority"] = rule.priority
    ticket.save(update_fields=["category", "team", "assignee", "priority"])
    if rule is not None and rule.tag_list:
        tags = [Tag.objects.get_or_create(name=name.lower())[0] for name in rule.tag_list]
        ticket.tags.add(*tags)
        changes["tags"] = [tag.name for tag in tags]
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.ROUTED,
        created_at=now,
        data={
            "trigger": trigger,
            "category": category,
            "category_label": TicketCategory(category).label if category else "",
            "category_reason": category_reason,
            "rule": rule.name if rule else "",
            "rule_id": rule.pk if rule else None,
            "reason": reason,
            "language": facts.language,
            **changes,
        },
    )
    return RoutingDecision(category, category_reason, rule, reason)


def sentiment_rules_exist() -> bool:
    """Whether an active rule asks for a sentiment (only then does a tag re-route)."""
    return RoutingRule.objects.filter(active=True, is_default=False).exclude(sentiments=[]).exists()


def ticket_route_tagged(*, ticket: Ticket, text: str, now: datetime) -> RoutingDecision | None:
    """Route again once the opening message has its sentiment tag, when an active
    rule asks for a sentiment and nobody has taken the ticket yet (new and
    unassigned); a rule that moves it tells the old team's inbox it left.
    Precondition: the caller holds the ticket's row and has set its sentiment."""
    if ticket.assignee_id is not None or ticket.status != TicketStatus.NEW:
        return None
    if not sentiment_rules_exist():
        return None
    old_team = ticket.team_id
    decision = ticket_route(ticket=ticket, text=text, trigger="tagged", now=now)
    if ticket.team_id != old_team:
        assignment_request(team_ids=[ticket.team_id])
        notify_on_commit(ticket, "assigned", also_teams=(old_team,))
    return decision
