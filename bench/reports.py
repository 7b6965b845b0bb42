"""Manager reports: how long each report of /api/v1/reports/ takes on a large
desk (100k tickets, 1M messages, 50k surveys), next to the raw SQL it ran.

    .venv/bin/python bench/reports.py --tickets 100000 --messages-per-ticket 10 --surveys 50000 --repeat 20

It makes a fresh database (helpdesk_reports_bench), migrates it with
``manage.py migrate`` and bulk loads it with bench/inbox.py's
``INSERT ... SELECT generate_series`` steps, with tickets spread over the
last year instead of two, and what the reports read besides: varied first
response and resolution times, first-response SLA clocks (met and breached),
sentiment, CSAT and NPS surveys with answers and low-score reasons (some
unanswered or expired), follow-ups, and orders placed over two years by
customers who join, buy again and drift away (so retention has real S, E and
N). Then, in this process, it requests each report as a manager through DRF's
APIClient, for the default 30 days, as a team lead, and for 365 days; and the
per-ticket rows' first page. Every case is timed next to the SQL the request
ran, captured once and re-run through ``connection.cursor()``: the ratio is
Django's share. The dashboard (/reports/) loads the five reports; their sum
must stay under a second. docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database_create, sql_load  # noqa: E402
from bench.inbox import LOAD_SQL, TEAMS, desk_env, explain, people_create, percentile, timed  # noqa: E402

REPORTS = ("satisfaction", "speed", "volume", "people", "retention")
DASHBOARD = "dashboard (30 days, all five reports)"
DASHBOARD_TARGET_MS = 1000.0
# Tickets are created this far back, evenly, the newest just now: a 30-day window holds 30/365 of them.
HISTORY_DAYS = 365
# Customers place their first order up to this many days back.
ORDER_DAYS = 760


# Loading. Ids start at 1 in the fresh database, and the SQL relies on it.

# Replaces bench/inbox.py's orders step. Customer c's first order has id c (the
# tickets' order_id relies on it), placed up to ORDER_DAYS back; then up to 5
# more, every 30 to 180 days, none in the future. So customers keep joining,
# buy again for a while and stop: S, E, N, retained and lost are all there.
ORDERS = (
    "orders",
    """
    INSERT INTO customers_order (shop_id, customer_id, external_id, number, status, placed_at, paid_at,
                                 total, currency, carrier, tracking_number, tracking_url, shipping_status,
                                 created_at, updated_at)
    SELECT c.shop_id, c.id, 'o' || c.id || '-' || k, 'N' || (100000 + 10 * c.id + k),
           (ARRAY['delivered','delivered','delivered','delivered','shipped','paid','returned','cancelled'])
               [1 + (c.id + 3 * k) %% 8],
           o.placed_at, o.placed_at, (10 + (13 * c.id + 7 * k) %% 190)::numeric(12, 2), 'EUR', 'DHL',
           'TRK' || c.id || '-' || k, '',
           (ARRAY['delivered','delivered','delivered','delivered','in_transit','label_created','returned',
                  'not_shipped'])[1 + (c.id + 3 * k) %% 8],
           now(), now()
    FROM customers_customer c
    CROSS JOIN LATERAL (
        SELECT (c.id * 7919) %% %(order_days)s AS first_days, 30 + (c.id * 17) %% 151 AS gap, (c.id * 31) %% 6 AS more
    ) p
    CROSS JOIN LATERAL generate_series(0, p.more) k
    CROSS JOIN LATERAL (
        SELECT now() - (p.first_days - k * p.gap) * interval '1 day' - (c.id %% 24) * interval '1 hour' AS placed_at
    ) o
    WHERE p.first_days - k * p.gap >= 0
    ORDER BY k, c.id
    """,
)

# After the tickets step, before messages and events (which read these times).
# First response 1 to 481 minutes after opening, most within the hour; solved
# half an hour to four days after it; nothing in the future (the newest
# tickets wait). Mood and its trend vary independently of each other.
TICKET_TIMES = (
    "ticket times and mood",
    """
    UPDATE tickets_ticket t
    SET first_response_at = CASE WHEN x.responded <= now() THEN x.responded END,
        solved_at = CASE WHEN x.solved <= now() THEN x.solved END,
        closed_at = CASE WHEN t.closed_at IS NOT NULL THEN x.solved + interval '4 days' END,
        sentiment = (ARRAY['negative','neutral','neutral','positive','positive',''])[1 + (t.id * 13) %% 6],
        sentiment_trend = (ARRAY['','steady','steady','improving','worsening'])[1 + (t.id * 17) %% 5]
    FROM (
        SELECT id,
               CASE WHEN first_response_at IS NOT NULL AND status <> 'new'
                   THEN created_at + (1 + 480 * power(((id * 7901) %% 1000) / 1000.0, 3)) * interval '1 minute'
               END AS responded,
               CASE WHEN solved_at IS NOT NULL
                   THEN created_at + (1 + 480 * power(((id * 7901) %% 1000) / 1000.0, 3)) * interval '1 minute'
                        + (0.5 + 96 * power(((id * 4099) %% 1000) / 1000.0, 2)) * interval '1 hour'
               END AS solved
        FROM tickets_ticket
    ) x
    WHERE x.id = t.id
    """,
)

# One first-response clock per ticket, the target by priority: stopped at the
# first response (or at solving, for tickets never answered); breached when
# that came after the target, or the target passed with no answer yet.
SLA_CLOCKS = (
    "first-response SLA clocks",
    """
    INSERT INTO tickets_slaclock (ticket_id, policy_id, kind, target_minutes, business_hours, started_at, pauses,
                                  due_at, warn_at, warned_at, breached_at, stopped_at)
    SELECT t.id, NULL, 'first_response', p.target, false, t.created_at, '[]'::jsonb, p.due,
           t.created_at + 0.8 * p.target * interval '1 minute', NULL,
           CASE WHEN coalesce(t.first_response_at, t.solved_at, now()) > p.due THEN p.due END,
           coalesce(t.first_response_at, t.solved_at)
    FROM tickets_ticket t
    CROSS JOIN LATERAL (
        SELECT CASE t.priority WHEN 'urgent' THEN 30 WHEN 'high' THEN 60 WHEN 'low' THEN 480 ELSE 240 END AS target
    ) q
    CROSS JOIN LATERAL (SELECT q.target, t.created_at + q.target * interval '1 minute' AS due) p
    """,
)

# %(surveys)s solved tickets, picked evenly over time by a scrambled order: 7 in
# 10 CSAT, 3 in 10 NPS. Surveys of tickets solved in the last hour are still
# scheduled (not sent).
SURVEYS = (
    "surveys",
    """
    INSERT INTO surveys_survey (ticket_id, customer_id, policy_id, kind, channel, status, created_at, send_at,
                                sent_at, expires_at, token_digest)
    SELECT t.id, t.customer_id, NULL, CASE WHEN t.id %% 10 < 7 THEN 'csat' ELSE 'nps' END, t.channel,
           CASE WHEN t.sent THEN 'pending' ELSE 'scheduled' END,
           t.solved_at, t.solved_at,
           CASE WHEN t.sent THEN t.solved_at END,
           CASE WHEN t.sent THEN t.solved_at + interval '7 days' END,
           NULL
    FROM (
        SELECT id, customer_id, channel, solved_at, solved_at < now() - interval '1 hour' AS sent,
               row_number() OVER (ORDER BY (id * 7919) %% 100003, id) AS n
        FROM tickets_ticket
        WHERE solved_at IS NOT NULL
    ) t
    WHERE t.n <= %(surveys)s
    ORDER BY t.id
    """,
)

# 6 in 10 sent surveys answered, within two days; CSAT mostly 4-5, NPS spread;
# low scores (CSAT 1-3, NPS 0-6) mostly give a reason.
RESPONSES = (
    "survey responses",
    """
    INSERT INTO surveys_surveyresponse (survey_id, score, comment, reason, reason_text, answered_at, ip_hash)
    SELECT s.id, a.score, '',
           CASE WHEN (s.kind = 'csat' AND a.score <= 3) OR (s.kind = 'nps' AND a.score <= 6)
               THEN (ARRAY['slow','not_solved','unfriendly','product','other',''])[1 + (s.id * 11) %% 6]
               ELSE ''
           END,
           '', least(now(), s.sent_at + (1 + (s.id * 37) %% 47) * interval '1 hour'), ''
    FROM surveys_survey s
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.kind = 'csat' THEN (ARRAY[1,2,3,3,4,4,4,5,5,5,5,5])[1 + (s.id * 7) %% 12]
                    ELSE (ARRAY[0,2,4,5,6,6,7,7,8,8,9,9,9,10,10])[1 + (s.id * 7) %% 15]
               END AS score
    ) a
    WHERE s.sent_at IS NOT NULL AND (s.id * 13) %% 10 < 6
    """,
)

SURVEY_STATUS = (
    "survey status",
    """
    UPDATE surveys_survey s
    SET status = CASE WHEN EXISTS (SELECT 1 FROM surveys_surveyresponse r WHERE r.survey_id = s.id) THEN 'answered'
                      WHEN s.expires_at < now() THEN 'expired'
                      ELSE 'pending'
                 END
    WHERE s.sent_at IS NOT NULL
    """,
)

# Every other low score opens a follow-up: a ticket without a survey of its
# own, picked at the same point in time (the i-th low score takes the i x
# stride-th unsurveyed ticket); a third of the follow-ups recovered.
FOLLOW_UPS = (
    "follow-ups",
    """
    WITH low AS (
        SELECT s.id AS survey_id, r.answered_at, row_number() OVER (ORDER BY s.ticket_id) AS n
        FROM surveys_survey s
        JOIN surveys_surveyresponse r ON r.survey_id = s.id
        WHERE ((s.kind = 'csat' AND r.score <= 3) OR (s.kind = 'nps' AND r.score <= 6)) AND s.id %% 2 = 0
    ),
    free AS (
        SELECT t.id, row_number() OVER (ORDER BY t.id) AS n
        FROM tickets_ticket t
        WHERE NOT EXISTS (SELECT 1 FROM surveys_survey s WHERE s.ticket_id = t.id)
    ),
    stride AS (SELECT greatest(1, (SELECT count(*) FROM free) / greatest(1, (SELECT count(*) FROM low))) AS k)
    INSERT INTO surveys_followup (survey_id, ticket_id, created_at, recovered_at, recovered_by_id)
    SELECT low.survey_id, free.id, low.answered_at,
           CASE WHEN low.n %% 3 = 0 THEN low.answered_at + interval '20 days' END, NULL
    FROM low CROSS JOIN stride JOIN free ON free.n = low.n * stride.k
    """,
)


def load_steps() -> list[tuple[str, str]]:
    """bench/inbox.py's steps, orders replaced, plus what the reports read."""
    steps = []
    for name, sql in LOAD_SQL:
        steps.append(ORDERS if name == "orders" else (name, sql))
        if name == "tickets":
            steps.append(TICKET_TIMES)
    return [*steps, SLA_CLOCKS, SURVEYS, RESPONSES, SURVEY_STATUS, FOLLOW_UPS]


def load(database_url: str, args: argparse.Namespace, first_agent: int) -> None:
    params = {
        "shops": 3,
        "customers": args.customers,
        "order_days": ORDER_DAYS,
        "tickets": args.tickets,
        "recent": max(1, args.tickets // 20),
        "teams": len(TEAMS),
        "per_team": 8,
        "first_agent": first_agent,
        "per_ticket": args.messages_per_ticket,
        "days": HISTORY_DAYS,
        "surveys": args.surveys,
    }
    sql_load(database_url, load_steps(), params)


def team_lead_create() -> Any:
    """A team lead of the logistics team (who sees its tickets and their own)."""
    from django.contrib.auth.models import User

    from helpdesk.tickets.models import Agent, AgentRole, Team

    user = User.objects.create_user(username="lead", first_name="Lead")
    lead = Agent.objects.create(user=user, role=AgentRole.TEAM_LEAD)
    lead.teams.set([Team.objects.get(slug=TEAMS[1])])
    return lead


# Measuring.


def jit_set(value: str) -> None:
    """``SET jit`` on the current connection and on any the run opens later."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {value}")

    connection_created.connect(on_connect, weak=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {value}")


@dataclass
class Case:
    name: str
    url: str
    queries: int = 0
    statements: list[str] = field(default_factory=list)
    request: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)  # all the statements, one run each, summed
    per_statement: list[list[float]] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.request, 50)

    @property
    def p95(self) -> float:
        return percentile(self.request, 95)

    def slowest(self) -> tuple[int, float]:
        """(index, p50 ms) of the statement that takes longest."""
        medians = [percentile(samples, 50) for samples in self.per_statement]
        index = max(range(len(medians)), key=medians.__getitem__)
        return index, medians[index]


def sql_timed(statements: list[str], repeat: int) -> tuple[list[float], list[list[float]]]:
    """Each statement run through ``connection.cursor()`` and fetched, ``repeat``
    times after a warm-up: (the sums per run, the times per statement)."""
    from django.db import connection

    per_statement: list[list[float]] = [[] for _ in statements]
    sums = []
    with connection.cursor() as cursor:
        for run in range(repeat + 1):
            total = 0.0
            for i, sql in enumerate(statements):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                took = time.perf_counter() - started
                if run:  # run 0 warms up
                    per_statement[i].append(took)
                    total += took
            if run:
                sums.append(total)
    return sums, per_statement


def measure(name: str, client: Any, url: str, repeat: int) -> Case:
    """Time GET ``url`` (must answer 200), then every query it ran, raw."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.content[:300]!r}")
    case = Case(name, url, queries=len(captured.captured_queries))
    case.statements = [q["sql"] for q in captured.captured_queries]
    case.request = timed(lambda: client.get(url), repeat)
    case.sql, case.per_statement = sql_timed(case.statements, repeat)
    return case


def run(args: argparse.Namespace, manager: Any, lead: Any) -> list[Case]:
    from django.utils import timezone
    from rest_framework.test import APIClient

    as_manager, as_lead = APIClient(), APIClient()
    as_manager.force_authenticate(manager.user)
    as_lead.force_authenticate(lead.user)
    today = timezone.localdate()
    year = f"?from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"
    plans = [(f"{name}, manager", as_manager, f"/api/v1/reports/{name}/") for name in REPORTS]
    plans.append(("ticket rows page 1, manager", as_manager, "/api/v1/reports/tickets/"))
    plans += [(f"{name}, team lead", as_lead, f"/api/v1/reports/{name}/") for name in REPORTS]
    plans.append(("ticket rows page 1, team lead", as_lead, "/api/v1/reports/tickets/"))
    plans += [(f"{name}, manager, 365 days", as_manager, f"/api/v1/reports/{name}/{year}") for name in REPORTS]
    cases = []
    for name, client, url in plans:
        started = time.monotonic()
        case = measure(name, client, url, args.repeat)
        cases.append(case)
        print(
            f"{name}: {url}: {case.queries} queries, p50 {case.p50:.1f} ms ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    return cases


def headline(client: Any) -> None:
    """A few figures of the manager's 30-day reports: the data looks like a desk's."""
    for name, keys in (
        ("volume", ("tickets", "negative_share", "sentiment_improved")),
        ("satisfaction", ("csat", "nps", "csat_response_rate", "follow_ups_opened")),
        ("speed", ("frt_median", "frt_p90", "sla_compliance", "resolution_median", "waiting_now")),
        ("retention", ("customers_start", "customers_end", "customers_new", "customers_lost", "crr", "clv")),
    ):
        figures = {f["key"]: f for f in client.get(f"/api/v1/reports/{name}/").json()["figures"]}
        shown = ", ".join(f"{k} {figures[k]['value']} (before {figures[k]['previous']})" for k in keys)
        print(f"  {name}: {shown}")


def rows_of(cases: list[Case]) -> list[list[str]]:
    rows = []
    for c in cases:
        index, slowest = c.slowest()
        s50, s95 = percentile(c.sql, 50), percentile(c.sql, 95)
        rows.append(
            [
                c.name,
                str(c.queries),
                f"{c.p50:.1f}",
                f"{c.p95:.1f}",
                f"{s50:.1f}",
                f"{s95:.1f}",
                f"{slowest:.1f} (#{index + 1}, {100 * slowest / s50:.0f}%)",
                f"{c.p50 / s50:.2f}",
            ]
        )
    return rows


HEADER = ["case", "queries", "p50 ms", "p95 ms", "SQL p50", "SQL p95", "slowest query p50", "p50 / SQL"]


def dashboard_row(cases: list[Case]) -> list[str]:
    reports = [c for c in cases if c.name in {f"{name}, manager" for name in REPORTS}]
    p50, p95 = sum(c.p50 for c in reports), sum(c.p95 for c in reports)
    s50 = sum(percentile(c.sql, 50) for c in reports)
    s95 = sum(percentile(c.sql, 95) for c in reports)
    verdict = "under" if p95 < DASHBOARD_TARGET_MS else "OVER"
    return [
        DASHBOARD,
        str(sum(c.queries for c in reports)),
        f"{p50:.1f}",
        f"{p95:.1f}",
        f"{s50:.1f}",
        f"{s95:.1f}",
        f"target {DASHBOARD_TARGET_MS:.0f} ms: p95 {verdict}",
        f"{p50 / s50:.2f}",
    ]


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    for i, row in enumerate([HEADER, *rows]):
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def print_markdown(rows: list[list[str]]) -> None:
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(HEADER))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets (default: 100000)")
    parser.add_argument("--messages-per-ticket", type=int, default=10, help="average messages per ticket (default: 10)")
    parser.add_argument("--surveys", type=int, help="surveys of solved tickets (default: half the tickets)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers (default: 20000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed repetitions of each case (default: 20)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the slowest query")
    parser.add_argument("--explain-all", action="store_true", help="print EXPLAIN ANALYZE of each case's slowest")
    parser.add_argument("--no-load", action="store_true", help="reuse the database a previous run loaded")
    parser.add_argument("--load-only", action="store_true", help="load the database, measure nothing")
    parser.add_argument(
        "--jit",
        choices=["server", "on", "off"],
        default="server",
        help="PostgreSQL's JIT compilation for this run's connections (default: the server's setting)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        help="the PostgreSQL server (default: $DATABASE_URL, else the local one); its database name is ignored",
    )
    parser.add_argument(
        "--database-name",
        default="helpdesk_reports_bench",
        help="the bench's own database, DROPPED and created unless --no-load",
    )
    args = parser.parse_args()
    if args.surveys is None:
        args.surveys = args.tickets // 2
    # Never the database of the URL: $DATABASE_URL may well be one that matters.
    database_url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + args.database_name))
    env = desk_env(database_url)

    started = time.monotonic()
    if not args.no_load:
        database_create(database_url)
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
        print(f"migrated in {time.monotonic() - started:.1f} s", flush=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS")})
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "LOG_LEVEL")})
    import django

    django.setup()
    from django.db import connection
    from rest_framework.test import APIClient

    from helpdesk.customers.models import Order
    from helpdesk.tickets.models import Agent, AgentRole, Message, SlaClock, Ticket
    from surveys.models import FollowUp, Survey, SurveyResponse

    if args.no_load:
        manager = Agent.objects.get(role=AgentRole.MANAGER)
        lead = Agent.objects.get(role=AgentRole.TEAM_LEAD)
    else:
        _agent, manager = people_create()
        lead = team_lead_create()
        first_agent = Agent.objects.order_by("pk").values_list("pk", flat=True)[0]
        load(database_url, args, first_agent)
        print(f"loaded in {time.monotonic() - started:.1f} s (with migrate)", flush=True)
    counts = {
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "surveys": Survey.objects.count(),
        "answers": SurveyResponse.objects.count(),
        "follow-ups": FollowUp.objects.count(),
        "SLA clocks": SlaClock.objects.count(),
        "orders": Order.objects.count(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(", ".join(f"{n} {name}" for name, n in counts.items()) + f"; database {size}; {os.cpu_count()} CPUs")
    if args.load_only:
        return
    if args.jit != "server":
        jit_set(args.jit)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    client = APIClient()
    client.force_authenticate(manager.user)
    print("the manager's last 30 days:")
    headline(client)

    load_before = os.getloadavg()
    cases = run(args, manager, lead)
    load_after = os.getloadavg()
    rows = [*rows_of(cases), dashboard_row(cases)]
    print()
    print(
        f"{args.repeat} requests each; times in ms; SQL: the request's queries re-run raw, summed; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; jit {jit}"
    )
    print_table(rows)
    print()
    print_markdown(rows)
    if args.explain or args.explain_all:
        slowest = sorted(cases, key=lambda c: -c.slowest()[1])
        for case in slowest if args.explain_all else slowest[:1]:
            index, took = case.slowest()
            sql = case.statements[index]
            print(f"\n-- {case.name}: query #{index + 1} of {case.queries}, p50 {took:.1f} ms\n{sql}\n{explain(sql)}")


if __name__ == "__main__":
    main()
