"""Outgoing webhooks: enqueued with the answer, HMAC-signed, retried with a
doubling wait through the task queue, and given up after the last attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from surveys import tasks
from surveys.models import Survey
from surveys.services import survey_answer
from surveys.webhooks import webhook_retry_at, webhook_signature
from tests.surveys.conftest import enqueued, run_enqueued, solve

SECRET = "whsec-test"


class Receiver:
    """A shop's endpoint on a local port: records requests, answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/desk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    server = Receiver()
    settings.SURVEY_WEBHOOK_URLS = [server.url]
    settings.SURVEY_WEBHOOK_SECRET = SECRET
    settings.SURVEY_WEBHOOK_MAX_ATTEMPTS = 3
    settings.SURVEY_WEBHOOK_RETRY_SECONDS = 30
    yield server
    server.close()


def test_the_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = '{"event": "survey.answered"}'
    expected = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert webhook_signature(body, SECRET) == f"sha256={expected}"
    assert webhook_signature(body + " ", SECRET) != webhook_signature(body, SECRET)


def test_the_wait_doubles_until_the_last_attempt() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [webhook_retry_at(n, now=now, max_attempts=5, base_seconds=30) for n in range(1, 6)]
    assert waits[:4] == [now + timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[4] is None


def test_an_answer_sends_a_signed_survey_answered_webhook(chat_ticket, logistics_agent, receiver) -> None:
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=5, comment="Lovely")
    assert [row.args_kwargs["kwargs"]["event"] for row in enqueued(tasks.webhook_deliver)] == ["survey.answered"]

    assert run_enqueued(tasks.webhook_deliver) == [True]

    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-helpdesk-event"] == "survey.answered"
    assert hmac.compare_digest(headers["x-helpdesk-signature"], webhook_signature(request["body"].decode(), SECRET))
    payload = json.loads(request["body"])
    assert payload["event"] == "survey.answered" and payload["id"]
    assert payload["data"]["survey"]["ticket"] == chat_ticket.pk
    assert payload["data"]["response"] | {"answered_at": None} == {
        "score": 5,
        "group": "happy",
        "comment": "Lovely",
        "reason": "",
        "reason_text": "",
        "answered_at": None,
    }
    assert enqueued(tasks.webhook_deliver) == []


def test_a_low_score_also_sends_follow_up_opened(chat_ticket, logistics_agent, team_lead, receiver) -> None:
    solve(chat_ticket, logistics_agent)
    follow_up = survey_answer(survey=Survey.objects.get(), score=1).follow_up
    assert follow_up is not None
    run_enqueued(tasks.webhook_deliver)
    events = {json.loads(r["body"])["event"]: json.loads(r["body"]) for r in receiver.requests}
    assert set(events) == {"survey.answered", "follow_up.opened"}
    assert events["follow_up.opened"]["data"]["follow_up"] == {"ticket": follow_up.ticket_id}


def test_a_failed_delivery_is_retried_later_with_the_same_body_until_given_up(
    chat_ticket, logistics_agent, receiver
) -> None:
    receiver.status = 503
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=4)

    before = timezone.now()
    assert run_enqueued(tasks.webhook_deliver) == [False]
    [retry] = enqueued(tasks.webhook_deliver)
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert before + timedelta(seconds=29) < retry.run_after < timezone.now() + timedelta(seconds=31)

    assert run_enqueued(tasks.webhook_deliver) == [False]
    [third] = enqueued(tasks.webhook_deliver)
    assert third.run_after > timezone.now() + timedelta(seconds=59)

    assert run_enqueued(tasks.webhook_deliver) == [False]
    assert enqueued(tasks.webhook_deliver) == []  # three attempts: given up
    bodies = {r["body"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1


def test_an_unreachable_endpoint_is_retried(chat_ticket, logistics_agent, receiver, settings) -> None:
    receiver.close()
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=4)
    assert run_enqueued(tasks.webhook_deliver) == [False]
    assert [row.args_kwargs["kwargs"]["attempt"] for row in enqueued(tasks.webhook_deliver)] == [2]


def test_no_urls_no_webhooks(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=4)
    assert enqueued(tasks.webhook_deliver) == []
