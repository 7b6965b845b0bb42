"""GET /healthz: is the database, the channel layer and the task queue usable?
It also reports the sentiment tagger's backlog, without failing on it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.db.models import Case, F, When
from django.db.models.functions import Greatest
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from helpdesk.tickets.models import AuthorKind, Message

CHECK_TIMEOUT_SECONDS = 3.0


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


async def _channel_layer() -> dict[str, Any]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    return {"ok": message.get("type") == "healthz.ping", "backend": type(layer).__name__}


def _task_queue() -> dict[str, Any]:
    waiting = DBTaskResult.objects.ready()
    # A task scheduled for later (an SLA timer) waits from its run_after, not from when it was queued.
    since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=Greatest(F("enqueued_at"), F("run_after"))
    )
    oldest = waiting.annotate(since=since).order_by("since").values_list("since", flat=True).first()
    lag = (timezone.now() - oldest) if oldest else timedelta(0)
    lag_seconds = int(lag.total_seconds())
    # Tasks waiting longer than this mean no worker is taking them.
    ok = lag_seconds <= settings.TASK_QUEUE_MAX_LAG_SECONDS
    result: dict[str, Any] = {"ok": ok, "waiting": waiting.count(), "oldest_waiting_seconds": lag_seconds}
    if not ok:
        result["error"] = "tasks are waiting longer than TASK_QUEUE_MAX_LAG_SECONDS: is a worker running?"
    return result


def _sentiment() -> dict[str, Any]:
    """Customer messages waiting for their tag, and why the last attempt failed.
    Reported, not failed on: chat works without tags."""
    waiting = Message.objects.filter(author_kind=AuthorKind.CUSTOMER, sentiment_tagged_at__isnull=True)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    lag_seconds = int((timezone.now() - oldest).total_seconds()) if oldest else 0
    error = waiting.exclude(sentiment_error="").order_by("-id").values_list("sentiment_error", flat=True).first()
    ok = not error and lag_seconds <= settings.TASK_QUEUE_MAX_LAG_SECONDS
    result: dict[str, Any] = {"ok": ok, "waiting": waiting.count(), "oldest_waiting_seconds": lag_seconds}
    if error:
        result["error"] = error
    return result


async def _check(name: str, coro: Any) -> tuple[str, dict[str, Any]]:
    try:
        return name, await asyncio.wait_for(coro, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # a health check reports every failure, whatever it is
        return name, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


async def healthz(request: HttpRequest) -> JsonResponse:
    results = dict(
        await asyncio.gather(
            _check("database", sync_to_async(_database)()),
            _check("channel_layer", _channel_layer()),
            _check("task_queue", sync_to_async(_task_queue)()),
        )
    )
    healthy = all(part["ok"] for part in results.values())
    failed = [name for name, part in results.items() if not part["ok"]]
    # Degraded, not failed: the desk serves chats while messages wait for tags.
    results["sentiment"] = (await _check("sentiment", sync_to_async(_sentiment)()))[1]
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "failed": failed, **results}, status=200 if healthy else 503
    )
