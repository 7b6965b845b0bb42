"""The demo's past tickets: who wrote about which order, when, and how each
conversation went, as timelines for helpdesk.tickets.history.

A ticket about an order starts when that order gave a reason to write (late,
damaged, refunded...). Timelines run to the end of the script and are then cut
at ``now``, so the newest tickets are still new, open or pending.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from helpdesk.customers.models import Customer, Order
from helpdesk.demo import conversations as talk
from helpdesk.demo.shop import CATALOG, DemoCustomer, DemoOrder
from helpdesk.tickets.history import PastAssignment, PastMessage, PastStatus, PastStep, PastTicket
from helpdesk.tickets.models import Agent, Team, TicketCategory, TicketChannel, TicketPriority, TicketStatus

TICKET_COUNT = 150
WINDOW_DAYS = 180
# Of those, how many came in the last RECENT_HOURS: the work still in the inbox.
RECENT_COUNT = 20
RECENT_HOURS = 72

# scenario: (weight, team slug, category, scripts by language)
SCENARIOS: dict[str, tuple[int, str, TicketCategory, dict[str, list[talk.Script]] | None]] = {
    "late": (22, "logistics", TicketCategory.DELIVERY, talk.LATE),
    "late_open": (6, "logistics", TicketCategory.DELIVERY, talk.LATE_OPEN),
    "damaged": (11, "returns", TicketCategory.DAMAGED, talk.DAMAGED),
    "wrong_size": (6, "returns", TicketCategory.DAMAGED, talk.WRONG_SIZE),
    "refund": (13, "returns", TicketCategory.RETURN, talk.REFUND),
    "double_charge": (8, "payments", TicketCategory.PAYMENT, talk.DOUBLE_CHARGE),
    "payment_failed": (5, "payments", TicketCategory.PAYMENT, talk.PAYMENT_FAILED),
    "product": (20, "general", TicketCategory.PRODUCT, talk.PRODUCT),  # English scripts are made per item
    "account": (9, "general", TicketCategory.ACCOUNT, talk.ACCOUNT),
}
SIZED = {"footwear", "jackets"}


@dataclass(frozen=True)
class DemoStaff:
    manager: Agent
    lead: Agent
    teams: dict[str, Team]
    members: dict[str, list[Agent]]  # team slug: who answers its tickets, most active first


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _delay(rng: random.Random, who: str, channel: str, *, answered: bool) -> timedelta:
    """How long after the previous turn this one comes."""
    chat = channel == TicketChannel.CHAT
    if who in (talk.CUSTOMER, talk.ARRIVED):
        return _minutes(rng, 1, 6) if chat else _minutes(rng, 30, 26 * 60)
    if who == talk.NOTE:
        return _minutes(rng, 1, 4) if chat else _minutes(rng, 10, 5 * 60)
    if not answered:  # the first reply waits in the queue
        return _minutes(rng, 1, 12) if chat else _minutes(rng, 20, 20 * 60)
    return _minutes(rng, 1, 6) if chat else _minutes(rng, 10, 8 * 60)


def _on_shift(rng: random.Random, at: datetime) -> datetime:
    """Agents work 07:00 to 20:00 (UTC in the demo); night work is caught up in the morning."""
    if 7 <= at.hour < 20:
        return at
    morning = at.replace(hour=7, minute=0, second=0, microsecond=0)
    if at.hour >= 20:
        morning += timedelta(days=1)
    return morning + _minutes(rng, 0, 150)


def _date(moment: datetime, language: str) -> str:
    if language == "en":
        return f"{moment.day} {moment:%B}"
    if language == "fa":
        return f"{moment:%Y-%m-%d}"
    return f"{moment.day}.{moment.month}."


def _amount(total: Decimal, language: str) -> str:
    if language in ("de", "es"):
        return f"{total:.2f} €".replace(".", ",")
    return f"€{total:.2f}"


class DemoTickets:
    def __init__(self, rng: random.Random, now: datetime, staff: DemoStaff):
        self.rng, self.now, self.staff = rng, now, staff
        self.since = now - timedelta(days=WINDOW_DAYS)
        self.used: set[str] = set()

    # -- Which order, and when the customer writes ---------------------------------

    def _start(self, scenario: str, order: DemoOrder) -> datetime | None:
        rng = self.rng
        if scenario == "late" and order.late and order.delivered_at and order.expected_at:
            start = order.expected_at + timedelta(hours=rng.uniform(10, 36))
            return start if start < order.delivered_at - timedelta(hours=12) else None
        if scenario == "late_open" and order.late and not order.delivered_at and order.expected_at:
            return order.expected_at + timedelta(hours=rng.uniform(8, 30))
        if scenario == "damaged" and order.delivered_at:
            return order.delivered_at + timedelta(hours=rng.uniform(2, 72))
        if scenario == "wrong_size" and order.delivered_at and any(i["category"] in SIZED for i in order.items):
            return order.delivered_at + timedelta(hours=rng.uniform(3, 96))
        if scenario == "refund" and order.status in ("returned", "refunded") and order.delivered_at:
            return order.delivered_at + timedelta(days=rng.uniform(16, 24))
        if scenario == "double_charge" and order.status in ("paid", "shipped", "delivered"):
            return order.placed_at + timedelta(hours=rng.uniform(2, 40))
        if scenario == "payment_failed" and order.status in ("pending", "cancelled"):
            return order.placed_at + timedelta(minutes=rng.uniform(4, 40))
        return None

    def _pick_order(self, scenario: str, orders: list[DemoOrder], since: datetime) -> tuple[DemoOrder, datetime] | None:
        candidates = [o for o in orders if o.record["id"] not in self.used]
        self.rng.shuffle(candidates)
        for order in candidates:
            start = self._start(scenario, order)
            if start is not None and since <= start <= self.now - timedelta(minutes=20):
                self.used.add(order.record["id"])
                return order, start
        return None

    # -- What was said ------------------------------------------------------------

    def _script(self, scenario: str, language: str, item: tuple[str, str]) -> tuple[str, talk.Script]:
        scripts = SCENARIOS[scenario][3] or {}
        if language in scripts and self.rng.random() < 0.85:
            return language, self.rng.choice(scripts[language])
        if scenario == "product":
            category = item[1]
            question, answer = talk.PRODUCT_BY_CATEGORY.get(category, talk.PRODUCT_OTHER)
            thanks = self.rng.choice(["Thanks, very helpful!", "Great, I'll order it then.", "Thank you!"])
            turns = ((talk.CUSTOMER, question), (talk.AGENT, answer), (talk.CUSTOMER, thanks))
            return "en", talk.Script("Question about the {item}", turns)
        return "en", self.rng.choice(scripts["en"])

    def _timeline(
        self,
        script: talk.Script,
        texts: dict[str, str],
        *,
        channel: str,
        start: datetime,
        assignee: Agent,
        assigner: Agent,
        move_to: Team | None,
        order: DemoOrder | None,
        signature: str,
    ) -> list[PastStep]:
        rng, at = self.rng, start
        steps: list[PastStep] = []
        answered = False
        for n, (who, text) in enumerate(script.turns):
            body = text.format(**texts)
            if n == 0:
                steps.append(PastMessage(at=at, body=body))
                # Someone takes the ticket before answering it.
                first_reply = _delay(rng, talk.AGENT, channel, answered=False)
                at = _on_shift(rng, at + first_reply * rng.uniform(0.1, 0.6))
                steps.append(PastAssignment(at=at, actor=assigner, assignee=assignee, team=move_to))
                continue
            at += _delay(rng, who, channel, answered=answered)
            if who == talk.ARRIVED and order is not None and order.delivered_at:
                at = max(at, order.delivered_at + _minutes(rng, 40, 6 * 60))
            if who in (talk.CUSTOMER, talk.ARRIVED):
                steps.append(PastMessage(at=at, body=body))
                continue
            at = _on_shift(rng, at)
            if who == talk.NOTE:
                steps.append(PastMessage(at=at, body=body, agent=assignee, internal=True))
            else:
                steps.append(PastMessage(at=at, body=body + signature, agent=assignee))
                answered = True
                if who == talk.ASK:
                    at += _minutes(rng, 0.2, 1)
                    steps.append(PastStatus(at=at, actor=assignee, status=TicketStatus.PENDING))
        if script.solved:
            at = _on_shift(rng, at + _minutes(rng, 3, 90))
            steps.append(PastStatus(at=at, actor=assignee, status=TicketStatus.SOLVED))
            if rng.random() < 0.75:
                closed = _on_shift(rng, at + timedelta(days=rng.uniform(3, 7)))
                steps.append(PastStatus(at=closed, actor=assignee, status=TicketStatus.CLOSED))
        return [s for s in steps if s.at <= self.now]

    # -- Putting it together ------------------------------------------------------

    def _priority(self, scenario: str, customer: DemoCustomer, order: DemoOrder | None) -> TicketPriority:
        important = customer.record["tier"] == "vip"
        if scenario == "product":
            return TicketPriority.LOW
        if scenario == "double_charge":
            return TicketPriority.URGENT if order and order.total >= 400 else TicketPriority.HIGH
        if scenario == "late_open" or important:
            return TicketPriority.HIGH
        if scenario == "late" and order and order.delivered_at and order.expected_at:
            return (
                TicketPriority.HIGH
                if order.delivered_at - order.expected_at > timedelta(days=7)
                else TicketPriority.NORMAL
            )
        return TicketPriority.NORMAL

    def _people(self, team_slug: str, channel: str) -> tuple[Agent, Agent, Team | None, Team]:
        """Assignee, who assigned, the team to move the ticket to, and the team it opened in."""
        rng, staff = self.rng, self.staff
        team = staff.teams[team_slug]
        members = staff.members[team_slug]
        assignee = rng.choices(members, weights=[len(members) - i + 1 for i in range(len(members))])[0]
        if team_slug == "general" and rng.random() < 0.15:
            assignee = staff.manager
        # Web-form tickets without a clear topic land in General and get moved.
        if team_slug != "general" and channel == TicketChannel.WEB and rng.random() < 0.5:
            return assignee, rng.choice([staff.manager, *staff.members["general"]]), team, staff.teams["general"]
        assigner = staff.lead if team_slug == "logistics" and rng.random() < 0.5 else assignee
        return assignee, assigner, None, team

    def build(
        self,
        orders: list[DemoOrder],
        customers: list[DemoCustomer],
        stored_customers: dict[str, Customer],
        stored_orders: dict[str, Order],
    ) -> list[PastTicket]:
        rng = self.rng
        names = list(SCENARIOS)
        weights = [SCENARIOS[name][0] for name in names]
        tickets: list[PastTicket] = []
        for n in range(TICKET_COUNT):
            recent = n >= TICKET_COUNT - RECENT_COUNT
            since = self.now - (timedelta(hours=RECENT_HOURS) if recent else timedelta(days=WINDOW_DAYS))
            scenario = rng.choices(names, weights=weights)[0]
            order: DemoOrder | None = None
            picked = None if scenario in ("product", "account") else self._pick_order(scenario, orders, since)
            if picked is not None:
                order, start = picked
                customer = order.customer
            else:  # no order fits: a question that needs none
                scenario = scenario if scenario in ("product", "account") else "product"
                customer = rng.choice(customers)
                start = self.now - (self.now - since) * rng.random() ** 1.4 - timedelta(minutes=20)
            # Some of the newest conversations are still going on.
            unfinished = recent and rng.random() < 0.6
            tickets.append(
                self._ticket(scenario, customer, order, start, stored_customers, stored_orders, unfinished=unfinished)
            )
        tickets.sort(key=lambda t: t.steps[0].at)
        return tickets

    def _ticket(
        self,
        scenario: str,
        customer: DemoCustomer,
        order: DemoOrder | None,
        start: datetime,
        stored_customers: dict[str, Customer],
        stored_orders: dict[str, Order],
        *,
        unfinished: bool,
    ) -> PastTicket:
        rng = self.rng
        _, team_slug, category, _ = SCENARIOS[scenario]
        if order is not None:
            sized = [i for i in order.items if i["category"] in SIZED]
            # The item worth writing about: the sized one, or the dearest.
            chosen = (
                sized[0]
                if scenario == "wrong_size" and sized
                else max(order.items, key=lambda i: Decimal(i["unit_price"]))
            )
            item = (chosen["name"], chosen["category"])
        else:
            _, name, item_category, _ = rng.choice(CATALOG)
            item = (name, item_category)
        language, script = self._script(scenario, customer.language, item)
        if unfinished:
            script = replace(script, turns=script.turns[: rng.randint(1, len(script.turns) - 1)], solved=False)
        channel = rng.choices(list(TicketChannel), weights=[45, 40, 15])[0]
        if scenario == "payment_failed" and rng.random() < 0.5:
            channel = TicketChannel.CHAT
        assignee, assigner, move_to, opened_in = self._people(team_slug, channel)
        texts = {
            "first": customer.first_name if language == customer.language else customer.first_name_latin,
            "email": customer.record["email"],
            "item": item[0],
            "number": order.number if order else "",
            "carrier": order.record["carrier"] if order else "",
            "tracking": order.record["tracking_number"] if order else "",
            "eta": _date(order.expected_at, language) if order and order.expected_at else "",
            "date": _date(start - timedelta(days=rng.randint(1, 4)), language),
            "amount": _amount(order.total, language) if order else "",
        }
        signature = ""
        if channel == TicketChannel.EMAIL:
            signature = f"\n\n{assignee.user.first_name}\nDemo Outdoor Shop support"
        steps = self._timeline(
            script,
            texts,
            channel=channel,
            start=start,
            assignee=assignee,
            assigner=assigner,
            move_to=move_to,
            order=order,
            signature=signature,
        )
        if unfinished and len(script.turns) == 1 and rng.random() < 0.5:
            steps = steps[:1]  # still waiting in the team's queue for someone to take it
        return PastTicket(
            customer=stored_customers[customer.external_id],
            order=stored_orders[order.record["id"]] if order else None,
            subject=script.subject.format(**texts),
            channel=channel,
            team=opened_in,
            steps=steps,
            priority=self._priority(scenario, customer, order),
            category=category,
        )
