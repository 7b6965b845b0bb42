"""The tagging path: customer messages are queued for the model when stored,
tagged in batches, and their tags move the ticket's mood, priority and
recovery mark. The model here is a small fake: what is tested is the desk's
handling of tags (the real model has its own tests in tests/sentiment/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets import sentiment_services
from helpdesk.tickets.models import AuthorKind, EventKind, Message, SentimentLabel, TicketPriority
from helpdesk.tickets.sentiment_services import message_sentiment_correct, messages_claim, messages_tag_batch
from helpdesk.tickets.services import message_post, ticket_reply
from sentiment.adapter import SentimentResult, SentimentUnavailable
from tests.factories import make_ticket

WORDS = {"angry": ("negative", 0.95), "bad": ("negative", 0.6), "thanks": ("positive", 0.9)}


class FakeModel:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def predict(self, texts):
        self.batches.append(list(texts))
        results = []
        for text in texts:
            label, confidence = next((v for k, v in WORDS.items() if k in text.lower()), ("neutral", 0.7))
            results.append(SentimentResult(label, confidence, "fake", "1"))
        return results


@pytest.fixture
def model(monkeypatch) -> FakeModel:
    fake = FakeModel()
    monkeypatch.setattr(sentiment_services, "sentiment_model", lambda: fake)
    return fake


def say(ticket, body: str) -> Message:
    return message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=body).message


def test_storing_a_customer_message_enqueues_tagging_in_its_transaction(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    before = DBTaskResult.objects.filter(task_path__endswith="messages_tag").count()

    say(ticket, "hello")
    ticket_reply(ticket=ticket, agent=logistics_agent, body="hi")  # agents' messages are not tagged
    with pytest.raises(RuntimeError), transaction.atomic():
        say(ticket, "rolled back")
        raise RuntimeError

    assert DBTaskResult.objects.filter(task_path__endswith="messages_tag").count() == before + 1


def test_a_batch_tags_waiting_messages_of_several_tickets_at_once(model, customer, logistics):
    first = make_ticket(customer, logistics, body="I am angry")
    make_ticket(customer, logistics, body="ok")
    say(first, "thanks, it came")

    run = messages_tag_batch(limit=10)

    assert run.tagged == 3
    assert len(model.batches) == 1  # one model call for the whole batch
    tags = list(
        Message.objects.filter(author_kind="customer").order_by("id").values_list("sentiment", "sentiment_model")
    )
    assert tags == [("negative", "fake 1"), ("neutral", "fake 1"), ("positive", "fake 1")]
    assert messages_tag_batch().tagged == 0  # nothing left


def test_a_claim_of_a_live_worker_is_skipped_and_a_dead_one_is_taken_over(model, customer, logistics, settings):
    make_ticket(customer, logistics, body="one")
    assert [m.body for m in messages_claim(limit=5)] == ["one"]  # a worker took it and died

    assert messages_tag_batch().tagged == 0  # its claim is fresh: not taken twice

    later = timezone.now() + timedelta(seconds=settings.SENTIMENT_CLAIM_SECONDS + 1)
    assert [m.body for m in messages_claim(limit=5, now=later)] == ["one"]


def test_a_model_that_cannot_load_leaves_messages_waiting_with_the_reason(monkeypatch, customer, logistics):
    def broken():
        raise SentimentUnavailable("model files missing in /nowhere")

    monkeypatch.setattr(sentiment_services, "sentiment_model", broken)
    make_ticket(customer, logistics, body="hello")

    run = messages_tag_batch()

    assert (run.tagged, run.failed) == (0, "model files missing in /nowhere")
    message = Message.objects.get(author_kind="customer")
    assert (message.sentiment_tagged_at, message.sentiment_claimed_at) == (None, None)
    assert message.sentiment_error == "model files missing in /nowhere"

    monkeypatch.setattr(sentiment_services, "sentiment_model", FakeModel)
    assert messages_tag_batch().tagged == 1
    message.refresh_from_db()
    assert (message.sentiment, message.sentiment_error) == ("neutral", "")


def test_a_confidently_negative_message_raises_priority_once_and_calls_the_lead(
    model, customer, logistics, team_lead, django_capture_on_commit_callbacks
):
    ticket = make_ticket(customer, logistics, body="I am angry")
    messages_tag_batch()
    say(ticket, "Still angry!!")
    messages_tag_batch()

    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH  # normal -> high, not urgent
    assert ticket.sentiment_escalated_at is not None
    raised = ticket.events.filter(kind=EventKind.PRIORITY_CHANGED)
    assert [e.data["reason"] for e in raised] == ["a confidently negative customer message (95%)"]
    assert ticket.events.get(kind=EventKind.ESCALATED).data["leads"] == [team_lead.pk]


def test_a_mildly_negative_message_changes_the_mood_but_not_the_priority(model, customer, logistics):
    ticket = make_ticket(customer, logistics, body="this is bad")
    messages_tag_batch()

    ticket.refresh_from_db()
    assert (ticket.sentiment, ticket.priority, ticket.sentiment_escalated_at) == ("negative", "normal", None)


def test_a_conversation_turning_positive_is_recovered_with_an_improving_trend(model, customer, logistics):
    ticket = make_ticket(customer, logistics, body="this is bad")
    messages_tag_batch()
    say(ticket, "thanks, all good now")
    say(ticket, "thanks again")
    messages_tag_batch()

    ticket.refresh_from_db()
    assert (ticket.sentiment, ticket.sentiment_trend) == ("positive", "improving")
    assert ticket.sentiment_recovered_at is not None
    assert ticket.events.filter(kind=EventKind.RECOVERED).count() == 1
    changes = [(e.data["old"], e.data["new"]) for e in ticket.events.filter(kind=EventKind.SENTIMENT_CHANGED)]
    assert changes == [("", "negative"), ("negative", "positive")]


def test_sentiment_events_never_reach_the_customers_widget(
    model, customer, logistics, django_capture_on_commit_callbacks
):
    from helpdesk.tickets import notify

    sent: list[tuple[list[str], dict]] = []
    make_ticket(customer, logistics, body="I am angry")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        messages_tag_batch()
    original = notify._send
    try:
        notify._send = lambda events: sent.extend(events)
        for callback in callbacks:
            callback()
    finally:
        notify._send = original

    changes = {event["change"] for _, event in sent}
    assert {"sentiment", "escalated"} <= changes
    for groups, event in sent:
        if event["change"] in ("sentiment", "escalated"):
            assert notify.customer_group(customer.pk) not in groups
            assert event["ticket"]["sentiment"] == "negative"


def test_an_agent_corrects_a_tag_and_the_mood_follows(model, customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics, body="this is bad")
    messages_tag_batch()
    message = Message.objects.get(ticket=ticket, author_kind="customer")

    message_sentiment_correct(message=message, agent=logistics_agent, label=SentimentLabel.POSITIVE)

    message.refresh_from_db()
    ticket.refresh_from_db()
    assert (message.sentiment, message.sentiment_corrected, message.sentiment_corrected_by) == (
        "negative",
        "positive",
        logistics_agent,
    )
    assert ticket.sentiment == "positive"
    event = ticket.events.get(kind=EventKind.SENTIMENT_CORRECTED)
    assert (event.actor, event.data) == (
        logistics_agent,
        {"seq": 1, "model": "negative", "old": "negative", "new": "positive"},
    )


def test_only_customer_messages_can_be_corrected(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    reply = ticket_reply(ticket=ticket, agent=logistics_agent, body="hi").message

    with pytest.raises(Exception, match="Only customer messages carry a sentiment"):
        message_sentiment_correct(message=reply, agent=logistics_agent, label=SentimentLabel.POSITIVE)


def test_corrections_export_as_jsonl_for_retraining_and_evaluation(
    model, customer, logistics, logistics_agent, tmp_path
):
    import json

    from django.core.management import call_command

    ticket = make_ticket(customer, logistics, body="החבילה לא הגיעה, ממש גרוע")
    say(ticket, "fine")
    messages_tag_batch()
    hebrew = Message.objects.get(ticket=ticket, seq=1)
    message_sentiment_correct(message=hebrew, agent=logistics_agent, label=SentimentLabel.NEGATIVE)
    out = tmp_path / "corrections.jsonl"

    call_command("sentiment_corrections", str(out))

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1  # only corrected messages
    assert rows[0] | {"corrected_at": ""} == {
        "text": "החבילה לא הגיעה, ממש גרוע",
        "label": "negative",
        "lang": "he",
        "model_label": "neutral",
        "model": "fake 1",
        "ticket": ticket.pk,
        "seq": 1,
        "corrected_by": "lena",
        "corrected_at": "",
    }


def test_the_sweeper_queues_a_run_for_messages_left_waiting(customer, logistics):
    from helpdesk.tickets.sentiment_services import SWEEP_WAIT_SECONDS, sentiment_sweep

    make_ticket(customer, logistics, body="hello")
    now = timezone.now()
    queued = DBTaskResult.objects.filter(task_path__endswith="messages_tag")
    before = queued.count()

    assert sentiment_sweep(now=now) is False  # just stored: its own run is on the way
    assert sentiment_sweep(now=now + timedelta(seconds=SWEEP_WAIT_SECONDS + 1)) is True
    assert queued.count() == before + 1
    messages_claim(limit=5, now=now + timedelta(seconds=SWEEP_WAIT_SECONDS + 1))
    assert sentiment_sweep(now=now + timedelta(seconds=SWEEP_WAIT_SECONDS + 2)) is False  # a worker has it


def test_events_after_an_escalation_carry_the_raised_priority(
    model, customer, logistics, django_capture_on_commit_callbacks
):
    from helpdesk.tickets import notify

    make_ticket(customer, logistics, body="I am angry")
    sent: list[dict] = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        messages_tag_batch()
    original = notify._send
    try:
        notify._send = lambda events: sent.extend(e for _, e in events)
        for callback in callbacks:
            callback()
    finally:
        notify._send = original

    # Clients apply events in order: none after the raise may say "normal" again.
    priorities = [event["ticket"]["priority"] for event in sent]
    assert priorities[priorities.index("high") :] == ["high"] * (len(priorities) - priorities.index("high"))


def test_rules_on_sentiment_route_a_new_chat_once_its_first_message_is_tagged(model, customer, logistics, returns):
    from helpdesk.tickets.models import RoutingRule, TicketChannel
    from helpdesk.tickets.services import ticket_open

    RoutingRule.objects.create(
        name="Angry customers", position=1, sentiments=["negative"], team=returns, priority="high"
    )
    ticket = ticket_open(customer=customer, subject="", channel=TicketChannel.CHAT, body="I am angry, where is it")
    ticket.refresh_from_db()
    assert ticket.team.slug == "general"  # at open the mood is not known yet

    messages_tag_batch()

    ticket.refresh_from_db()
    assert (ticket.team, ticket.priority) == (returns, "urgent")  # the rule's high, then the escalation's step
    routed = ticket.events.filter(kind=EventKind.ROUTED).latest("id")
    assert (routed.data["trigger"], routed.data["rule"], routed.data["reason"]) == (
        "tagged",
        "Angry customers",
        "sentiment negative",
    )


def test_a_ticket_an_agent_has_taken_is_not_routed_again(model, customer, logistics, returns, logistics_agent):
    from helpdesk.tickets.models import RoutingRule
    from helpdesk.tickets.services import ticket_assign

    RoutingRule.objects.create(name="Angry customers", position=1, sentiments=["negative"], team=returns)
    ticket = make_ticket(customer, logistics, body="I am angry")
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)

    messages_tag_batch()

    ticket.refresh_from_db()
    assert ticket.team == logistics
    assert not ticket.events.filter(kind=EventKind.ROUTED, data__trigger="tagged").exists()


def test_a_solved_conversation_tagged_late_is_not_escalated(model, customer, logistics, logistics_agent):
    from helpdesk.tickets.models import TicketStatus
    from helpdesk.tickets.services import ticket_set_status

    ticket = make_ticket(customer, logistics, body="I am angry")
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    messages_tag_batch()

    ticket.refresh_from_db()
    assert (ticket.sentiment, ticket.priority, ticket.sentiment_escalated_at) == ("negative", "normal", None)
