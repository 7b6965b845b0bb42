"""The demo's past tickets: who wrote about which order, when, and how each
conversation went, as timelines for helpdesk.tickets.history.

A ticket about an order starts when that order gave a reason to write (late,
damaged, refunded...). Timelines run to the end of the script and are then cut
at ``now``, so the newest tickets are still new, open or pending.
"""

from __future__ import annotations

import math
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
# Agents answer from 07:00 to 22:00 (UTC in the demo); customers mostly write from 08:00 to 22:00.
SHIFT_HOURS = (7, 22)
WAKING_HOURS = (8, 22)
NIGHT_OWLS = 0.08  # the share of customers who write at night anyway
# Most first replies come within minutes (the SLA target is 10); a busy queue makes these wait longer.
FIRST_REPLY_MEDIAN_MINUTES = {TicketChannel.CHAT: 4.0, TicketChannel.EMAIL: 5.5, TicketChannel.WEB: 5.5}
BUSY_QUEUE = 0.06


@dataclass(frozen=True)
class DemoTicket:
    """A past ticket with what the import does not store: the scenario it
    plays, and the mood of each of its customer messages in order."""

    past: PastTicket
    scenario: str
    moods: tuple[str, ...]


@dataclass(frozen=True)
class DemoStaff:
    manager: Agent
    lead: Agent
    teams: dict[str, Team]
    members: dict[str, list[Agent]]  # team slug: who answers its tickets, most active first


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _delay(rng: random.Random, who: str, channel: str) -> timedelta:
    """How long after the previous turn this one comes (the first reply has its own time)."""
    chat = channel == TicketChannel.CHAT
    if who in talk.MOODS:
        return _minutes(rng, 1, 6) if chat else _minutes(rng, 30, 26 * 60)
    if who == talk.NOTE:
        return _minutes(rng, 1, 4) if chat else _minutes(rng, 10, 5 * 60)
    return _minutes(rng, 1, 6) if chat else _minutes(rng, 10, 8 * 60)


def _first_reply(rng: random.Random, channel: str) -> timedelta:
    if rng.random() < BUSY_QUEUE:
        return _minutes(rng, 11, 50)
    median = FIRST_REPLY_MEDIAN_MINUTES[TicketChannel(channel)]
    return timedelta(minutes=max(rng.lognormvariate(math.log(median), 0.4), 0.5))


def _next_morning(rng: random.Random, at: datetime, hours: tuple[int, int], spread_minutes: float) -> datetime:
    """``at`` when it falls in ``hours``, else a time early in the next such hours."""
    opens, closes = hours
    if opens <= at.hour < closes:
        return at
    morning = at.replace(hour=opens, minute=0, second=0, microsecond=0)
    if at.hour >= closes:
        morning += timedelta(days=1)
    return morning + _minutes(rng, 0, spread_minutes)


def _on_shift(rng: random.Random, at: datetime) -> datetime:
    """Night work is caught up in the morning."""
    return _next_morning(rng, at, SHIFT_HOURS, 150)


def _awake(rng: random.Random, at: datetime) -> datetime:
    """When a customer who meant to write at ``at`` does: most wait for the morning."""
    if rng.random() < NIGHT_OWLS:
        return at
    return _next_morning(rng, at, WAKING_HOURS, 300)


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
        start = self._reason_to_write(scenario, order)
        if start is None:
            return None
        start = _awake(self.rng, start)
        if scenario == "late" and order.delivered_at and start >= order.delivered_at - timedelta(hours=12):
            return None  # the parcel came before the customer wrote
        return start

    def _reason_to_write(self, scenario: str, order: DemoOrder) -> datetime | None:
        rng = self.rng
        if scenario == "late" and order.late and order.delivered_at and order.expected_at:
            return order.expected_at + timedelta(hours=rng.uniform(10, 36))
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
            turns = ((talk.CUSTOMER, question), (talk.AGENT, answer), (talk.GLAD, thanks))
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
    ) -> tuple[list[PastStep], tuple[str, ...]]:
        """The ticket's steps up to now, and the moods of its customer messages among them."""
        rng, at = self.rng, start
        steps: list[tuple[PastStep, str]] = []  # customer messages with their mood, the rest with ""
        first_reply: datetime | None = None  # when the first public reply comes, until it has come
        for n, (who, text) in enumerate(script.turns):
            body = text.format(**texts)
            if n == 0:
                steps.append((PastMessage(at=at, body=body), talk.MOODS[who]))
                # Someone takes the ticket before answering it.
                first_reply = _on_shift(rng, at + _first_reply(rng, channel))
                at += (first_reply - at) * rng.uniform(0.1, 0.5)
                steps.append((PastAssignment(at=at, actor=assigner, assignee=assignee, team=move_to), ""))
                continue
            if first_reply is not None and who == talk.NOTE:
                at += (first_reply - at) * rng.uniform(0.3, 0.8)
            elif first_reply is not None and who in (talk.AGENT, talk.ASK):
                at = max(first_reply, at + _minutes(rng, 0.2, 1))
                first_reply = None
            else:
                at += _delay(rng, who, channel)
            if who == talk.ARRIVED and order is not None and order.delivered_at:
                at = max(at, order.delivered_at + _minutes(rng, 40, 6 * 60))
            if who in talk.MOODS:
                steps.append((PastMessage(at=at, body=body), talk.MOODS[who]))
                continue
            at = _on_shift(rng, at)
            if who == talk.NOTE:
                steps.append((PastMessage(at=at, body=body, agent=assignee, internal=True), ""))
            else:
                steps.append((PastMessage(at=at, body=body + signature, agent=assignee), ""))
                if who == talk.ASK:
                    at += _minutes(rng, 0.2, 1)
                    steps.append((PastStatus(at=at, actor=assignee, status=TicketStatus.PENDING), ""))
        if script.solved:
            at = _on_shift(rng, at + _minutes(rng, 3, 90))
            steps.append((PastStatus(at=at, actor=assignee, status=TicketStatus.SOLVED), ""))
            if rng.random() < 0.75:
                closed = _on_shift(rng, at + timedelta(days=rng.uniform(3, 7)))
                steps.append((PastStatus(at=closed, actor=assignee, status=TicketStatus.CLOSED), ""))
        done = [(step, mood) for step, mood in steps if step.at <= self.now]
        return [step for step, _ in done], tuple(mood for _, mood in done if mood)

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
    ) -> list[DemoTicket]:
        rng = self.rng
        names = list(SCENARIOS)
        weights = [SCENARIOS[name][0] for name in names]
        tickets: list[DemoTicket] = []
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
                awake = _awake(rng, start)
                start = awake if awake <= self.now - timedelta(minutes=20) else start
            # Some of the newest conversations are still going on.
            unfinished = recent and rng.random() < 0.6
            tickets.append(
                self._ticket(scenario, customer, order, start, stored_customers, stored_orders, unfinished=unfinished)
            )
        tickets.sort(key=lambda t: t.past.steps[0].at)
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
    ) -> DemoTicket:
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
        steps, moods = self._timeline(
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
            steps, moods = steps[:1], moods[:1]  # still waiting in the team's queue for someone to take it
        past = PastTicket(
            customer=stored_customers[customer.external_id],
            order=stored_orders[order.record["id"]] if order else None,
            subject=script.subject.format(**texts),
            channel=channel,
            team=opened_in,
            steps=steps,
            priority=self._priority(scenario, customer, order),
            category=category,
        )
        return DemoTicket(past=past, scenario=scenario, moods=moods)

    # -- A follow-up a low survey score opened -------------------------------------

    def follow_up(
        self,
        past: PastTicket,
        *,
        opened: datetime,
        lead: Agent | None,
        note: str,
        first_name: str,
        ticket_number: int,
        reason: str,
    ) -> DemoTicket:
        """What the survey services open (``past``: the customer's answer as its
        message, in the original's team) and what the team did with it: the
        lead, or a member, apologises; most customers take it well."""
        rng, staff = self.rng, self.staff
        steps: list[tuple[PastStep, str]] = [(step, "negative") for step in past.steps]
        handler = lead or rng.choice(staff.members[past.team.slug] or [staff.manager])
        if lead is not None:
            steps += [
                (PastAssignment(at=opened, actor=None, assignee=lead), ""),
                (PastMessage(at=opened, body=note, agent=lead, internal=True), ""),
            ]
        at = _on_shift(rng, opened + _first_reply(rng, past.channel))
        if lead is None:
            steps.append((PastAssignment(at=at, actor=handler, assignee=handler), ""))
            at += _minutes(rng, 0.2, 2)
        reply = talk.FOLLOW_UP_REPLIES[reason].format(first=first_name, ticket=ticket_number)
        steps.append((PastMessage(at=at, body=f"{reply}\n\n{handler.user.first_name}", agent=handler), ""))
        if rng.random() < 0.7:
            who, text = rng.choice(talk.FOLLOW_UP_ANSWERS)
            at += _delay(rng, who, past.channel)
            steps.append((PastMessage(at=at, body=text), talk.MOODS[who]))
        at = _on_shift(rng, at + _minutes(rng, 10, 120))
        steps.append((PastStatus(at=at, actor=handler, status=TicketStatus.SOLVED), ""))
        done = [(step, mood) for step, mood in steps if step.at <= self.now]
        return DemoTicket(
            past=replace(past, steps=[step for step, _ in done]),
            scenario="follow_up",
            moods=tuple(mood for _, mood in done if mood),
        )
