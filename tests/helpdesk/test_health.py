from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk import health

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task

done: list[str] = []


@task()
def record(word: str) -> None:
    done.append(word)


@pytest.mark.django_db
def test_healthy_desk_reports_every_part(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["channel_layer"]["ok"] and body["task_queue"]["ok"]


@pytest.mark.django_db
def test_unreachable_channel_layer_fails_health_and_names_it(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["channel_layer"]


@pytest.mark.django_db
def test_database_failure_is_reported(client, monkeypatch):
    def broken() -> dict:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", broken)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError: connection refused"}


@pytest.mark.django_db(transaction=True)
def test_queue_with_stale_tasks_fails_until_a_worker_runs_them(client, settings):
    settings.TASK_QUEUE_MAX_LAG_SECONDS = 60
    result = record.enqueue("parcel")
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - timedelta(minutes=5))

    stale = client.get("/healthz")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    fresh = client.get("/healthz")

    assert stale.status_code == 503
    assert stale.json()["task_queue"]["waiting"] == 1
    assert "parcel" in done
    assert fresh.status_code == 200
    assert fresh.json()["task_queue"]["waiting"] == 0


def test_a_broken_sentiment_model_is_reported_but_the_desk_stays_healthy(client, customer, logistics):
    from helpdesk.tickets.models import Message
    from tests.factories import make_ticket

    make_ticket(customer, logistics, body="hello")
    Message.objects.update(sentiment_error="model files missing in /nowhere")

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["sentiment"]["ok"] is False
    assert body["sentiment"]["waiting"] == 1
    assert body["sentiment"]["error"] == "model files missing in /nowhere"
    assert "sentiment" not in body["failed"]
