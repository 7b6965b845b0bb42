"""Inbox list and ticket view: how long the agent API and desk pages take on a
large desk (100k tickets, 1M messages), next to the raw SQL of their main query.

    .venv/bin/python bench/inbox.py --tickets 100000 --messages-per-ticket 10 --repeat 200

It makes a fresh database (helpdesk_inbox_bench), migrates it with
``manage.py migrate`` (so it has every index the app defines), bulk loads it
with ``INSERT ... SELECT generate_series`` (shops, customers, orders, teams,
agents, tickets, messages with gapless per-ticket seqs, events) and runs
ANALYZE. Then, in this process, it times each request through Django's test
clients (DRF's APIClient for /api/v1/, django.test.Client for /desk/), and
the SQL the request ran, captured once and re-run through
``connection.cursor()``. docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database_create, sql_load  # noqa: E402

SECRET_KEY = "bench-only-secret-key-" + "x" * 40
TEAMS = ["general", "logistics", "billing", "returns", "product"]
AGENTS_PER_TEAM = 8
# Tickets are created this far back, evenly, the newest just now.
HISTORY_DAYS = 730


def desk_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": database_url,
        # Nothing here needs notifications to reach anyone: the in-memory layer.
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


# Loading. Ids start at 1 in the fresh database, and the SQL relies on it.

LOAD_SQL = [
    (
        "shops",
        """
        INSERT INTO customers_shop (slug, name, currency, api_key_digest, api_key_prefix, widget_secret, created_at)
        SELECT 'shop-' || g, 'Bench shop ' || g, 'EUR', md5('key' || g) || md5('key2' || g), 'bk' || g,
               md5('secret' || g), now() - interval '3 years'
        FROM generate_series(1, %(shops)s) g
        """,
    ),
    (
        "customers",
        """
        INSERT INTO customers_customer (shop_id, external_id, email, name, phone, locale, tier, tags,
                                        first_seen_at, verified, created_at, updated_at)
        SELECT 1 + g %% %(shops)s, 'c' || g, 'customer' || g || '@example.com', 'Customer ' || g, '', 'en',
               (ARRAY['standard','standard','standard','silver','gold','vip'])[1 + g %% 6], '[]'::jsonb,
               now() - (g %% 1000) * interval '1 day', true, now(), now()
        FROM generate_series(1, %(customers)s) g
        """,
    ),
    (
        "orders",
        # Order g belongs to customer 1 + (g - 1) % customers, so customer c has orders c, c + customers, ...
        """
        INSERT INTO customers_order (shop_id, customer_id, external_id, number, status, placed_at, paid_at,
                                     total, currency, carrier, tracking_number, tracking_url, shipping_status,
                                     created_at, updated_at)
        SELECT c.shop_id, c.id, 'o' || g, 'N' || (100000 + g),
               (ARRAY['paid','shipped','delivered','delivered','delivered','returned'])[1 + g %% 6],
               now() - (g %% 900) * interval '1 day', now() - (g %% 900) * interval '1 day',
               (10 + g %% 190)::numeric(12, 2), 'EUR', 'DHL', 'TRK' || g, '',
               (ARRAY['label_created','in_transit','delivered','delivered','delivered','returned'])[1 + g %% 6],
               now(), now()
        FROM generate_series(1, %(orders)s) g
        JOIN customers_customer c ON c.id = 1 + (g - 1) %% %(customers)s
        """,
    ),
    (
        "tickets",
        # Ticket g is created at an even step over the history, so id order is time order.
        # Old tickets are mostly closed; the newest ones are still being worked.
        # Ticket g has 1 + (g * 7919) % (2m - 1) messages: m on average.
        """
        INSERT INTO tickets_ticket (customer_id, order_id, subject, channel, status, priority, category, team_id,
                                    assignee_id, last_seq, customer_delivered_seq, customer_read_seq,
                                    agent_read_seq, created_at, updated_at, first_response_at, solved_at, closed_at,
                                    sentiment, sentiment_trend)
        SELECT t.customer_id, t.order_id, 'Question about order ' || g, t.channel, t.status, t.priority, t.category,
               t.team_id, t.assignee_id, t.n, t.n, t.n, t.n, t.created_at, t.created_at + interval '1 hour',
               CASE WHEN t.n > 1 THEN t.created_at + interval '5 minutes' END,
               CASE WHEN t.status IN ('solved', 'closed') THEN t.created_at + interval '1 hour' END,
               CASE WHEN t.status = 'closed' THEN t.created_at + interval '4 days' END,
               (ARRAY['negative','neutral','neutral','positive'])[1 + g %% 4],
               (ARRAY['','steady','improving','worsening'])[1 + g %% 4]
        FROM generate_series(1, %(tickets)s) g
        CROSS JOIN LATERAL (
            SELECT 1 + (g * 31) %% %(customers)s AS customer_id,
                   CASE WHEN g %% 3 = 0 THEN NULL ELSE 1 + (g * 31) %% %(customers)s END AS order_id,
                   (ARRAY['chat','chat','email','web'])[1 + g %% 4] AS channel,
                   CASE
                       WHEN g > %(tickets)s - %(recent)s
                           THEN (ARRAY['new','open','open','open','pending','solved'])[1 + g %% 6]
                       WHEN g %% 50 = 0 THEN 'open'
                       WHEN g %% 10 = 0 THEN 'solved'
                       ELSE 'closed'
                   END AS status,
                   (ARRAY['normal','normal','normal','low','high','urgent'])[1 + g %% 6] AS priority,
                   (ARRAY['','delivery','damaged','return','payment','product','account','other'])[1 + g %% 8]
                       AS category,
                   1 + g %% %(teams)s AS team_id,
                   -- Agents of team k are k, k + teams, ...; a tenth of the tickets are unassigned.
                   CASE WHEN g %% 10 = 7 THEN NULL
                        ELSE %(first_agent)s + (g %% %(teams)s) + %(teams)s * ((g / %(teams)s) %% %(per_team)s)
                   END AS assignee_id,
                   1 + (g * 7919) %% (2 * %(per_ticket)s - 1) AS n,
                   now() - (%(tickets)s - g) * (make_interval(days => %(days)s) / %(tickets)s) AS created_at
        ) t
        """,
    ),
    (
        "messages",
        """
        INSERT INTO tickets_message (ticket_id, seq, client_msg_id, author_kind, author_agent_id, internal, body,
                                     created_at, sentiment, sentiment_confidence, sentiment_model,
                                     sentiment_tagged_at, sentiment_error, sentiment_corrected)
        SELECT t.id, s,
               CASE WHEN s %% 2 = 1 AND t.channel = 'chat' THEN 'c-' || t.id || '-' || s END,
               CASE WHEN s %% 2 = 1 THEN 'customer' WHEN t.assignee_id IS NULL THEN 'system' ELSE 'agent' END,
               CASE WHEN s %% 2 = 0 THEN t.assignee_id END,
               s %% 8 = 0,
               'Message ' || s || ' on ticket ' || t.id || ': hello, my parcel has not arrived yet and the '
                   || 'tracking page has said in transit for a week. Could you look into it, please?',
               t.created_at + s * interval '5 minutes',
               -- Customer messages are tagged (the tagger keeps up); others carry no tag.
               CASE WHEN s %% 2 = 1 THEN (ARRAY['negative','neutral','positive'])[1 + (t.id + s) %% 3] ELSE '' END,
               CASE WHEN s %% 2 = 1 THEN 0.9 END,
               CASE WHEN s %% 2 = 1 THEN 'bench 1' ELSE '' END,
               CASE WHEN s %% 2 = 1 THEN t.created_at + s * interval '5 minutes' END,
               '', ''
        FROM tickets_ticket t
        CROSS JOIN LATERAL generate_series(1, t.last_seq) s
        """,
    ),
    (
        "events",
        """
        INSERT INTO tickets_ticketevent (ticket_id, kind, actor_id, data, created_at)
        SELECT id, 'opened', NULL::bigint, jsonb_build_object('channel', channel), created_at FROM tickets_ticket
        UNION ALL
        SELECT id, 'assigned', NULL, jsonb_build_object('assignee', assignee_id, 'reason', 'routing'),
               created_at + interval '1 minute'
        FROM tickets_ticket WHERE assignee_id IS NOT NULL
        UNION ALL
        SELECT id, 'first_response', assignee_id, jsonb_build_object('seconds', 300), first_response_at
        FROM tickets_ticket WHERE first_response_at IS NOT NULL
        UNION ALL
        SELECT id, 'status_changed', assignee_id, jsonb_build_object('from', 'open', 'to', 'solved'), solved_at
        FROM tickets_ticket WHERE solved_at IS NOT NULL
        UNION ALL
        SELECT id, 'status_changed', NULL, jsonb_build_object('from', 'solved', 'to', 'closed'), closed_at
        FROM tickets_ticket WHERE closed_at IS NOT NULL
        """,
    ),
]


def people_create() -> tuple[Any, Any]:
    """Teams and agents through the ORM (few rows). Returns (agent in one team, manager)."""
    from django.contrib.auth.models import User

    from helpdesk.tickets.models import Agent, AgentRole, Team

    teams = [Team.objects.create(slug=slug, name=slug.title()) for slug in TEAMS]
    agents = []
    for i in range(AGENTS_PER_TEAM):
        for team in teams:
            user = User.objects.create_user(username=f"{team.slug}-{i}", first_name=f"{team.name} agent {i}")
            agent = Agent.objects.create(user=user)
            agent.teams.set([team])
            agents.append(agent)
    manager_user = User.objects.create_user(username="manager", first_name="Manager")
    manager = Agent.objects.create(user=manager_user, role=AgentRole.MANAGER)
    manager.teams.set(teams)
    return agents[1], manager  # agents[1]: the first logistics agent


def load(database_url: str, args: argparse.Namespace, first_agent: int) -> None:
    params = {
        "shops": 3,
        "customers": args.customers,
        "orders": args.customers * 2,
        "tickets": args.tickets,
        "recent": max(1, args.tickets // 20),
        "teams": len(TEAMS),
        "per_team": AGENTS_PER_TEAM,
        "first_agent": first_agent,
        "per_ticket": args.messages_per_ticket,
        "days": HISTORY_DAYS,
    }
    sql_load(database_url, LOAD_SQL, params)


# Measuring.


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile in milliseconds."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@dataclass
class Case:
    name: str
    request: list[float] = field(default_factory=list)
    main_sql: list[float] = field(default_factory=list)
    all_sql: list[float] = field(default_factory=list)
    queries: int = 0
    main: str = ""


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm: caches, prepared plans, the first connection
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def sql_run(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()


def measure(name: str, get: Callable[[], Any], repeat: int, main_table: str = '"tickets_ticket"') -> Case:
    """Time ``get`` (a request that must answer 200), then its SQL: the first
    SELECT reading ``main_table`` (the main query) and every SELECT it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = get()
    if response.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.content[:300]!r}")
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    main = next(sql for sql in selects if f"FROM {main_table}" in sql)
    case = Case(name, queries=len(captured.captured_queries), main=main)
    case.request = timed(get, repeat)
    case.main_sql = timed(lambda: sql_run([main]), repeat)
    case.all_sql = timed(lambda: sql_run(selects), repeat)
    return case


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def print_table(cases: list[Case]) -> None:
    header = ["case", "queries", "p50 ms", "p95 ms", "main SQL p50", "main SQL p95", "all SQL p50"]
    header += ["p50 / main", "p95 / main", "p50 / all SQL"]
    rows = []
    for c in cases:
        p50, p95 = percentile(c.request, 50), percentile(c.request, 95)
        m50, m95, a50 = percentile(c.main_sql, 50), percentile(c.main_sql, 95), percentile(c.all_sql, 50)
        rows.append(
            [
                c.name,
                str(c.queries),
                f"{p50:.1f}",
                f"{p95:.1f}",
                f"{m50:.2f}",
                f"{m95:.2f}",
                f"{a50:.2f}",
                f"{p50 / m50:.1f}",
                f"{p95 / m95:.1f}",
                f"{p50 / a50:.1f}",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for i, row in enumerate([header, *rows]):
        print(
            "  ".join(
                cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def deep_url(client: Any, url: str, pages: int) -> str:
    """The URL of page ``pages`` of ``url``, following each page's ``next``."""
    for _ in range(pages - 1):
        url = client.get(url).json()["next"]
    return url


def run(args: argparse.Namespace, agent: Any, manager: Any) -> list[Case]:
    from django.test import Client
    from rest_framework.test import APIClient

    from helpdesk.tickets.models import Ticket

    repeat = args.repeat
    api_agent, api_manager = APIClient(), APIClient()
    api_agent.force_authenticate(agent.user)
    api_manager.force_authenticate(manager.user)
    desk = Client()
    desk.force_login(agent.user)
    team = agent.teams.get()
    # A ticket of the agent's team with many messages.
    ticket = Ticket.objects.filter(team=team, last_seq=2 * args.messages_per_ticket - 1).order_by("-created_at").first()
    assert ticket is not None
    print(f"ticket view: #{ticket.pk}, {ticket.last_seq} messages, {ticket.events.count()} events", flush=True)

    lst = "/api/v1/tickets/"
    filtered = f"{lst}?status=open&team={team.slug}"
    plans = [
        ("list, agent (1 team)", api_agent, lst),
        ("list, manager", api_manager, lst),
        ("list status=open&team, agent", api_agent, filtered),
        ("list status=open&team, manager", api_manager, filtered),
        (f"list page {args.deep}, agent", api_agent, deep_url(api_agent, lst, args.deep)),
        (f"list page {args.deep}, manager", api_manager, deep_url(api_manager, lst, args.deep)),
        ("ticket detail API, agent", api_agent, f"{lst}{ticket.pk}/"),
        # Search: a word in every message, one in none, a customer's email, a number.
        ("search common word, manager", api_manager, f"{lst}?q=parcel"),
        ("search rare word, manager", api_manager, f"{lst}?q=zebra"),
        ("search rare word, agent", api_agent, f"{lst}?q=zebra"),
        ("search email, manager", api_manager, f"{lst}?q={ticket.customer.email}"),
        ("search number, manager", api_manager, f"{lst}?q=12345"),
        ("desk ticket page, agent", desk, f"/desk/tickets/{ticket.pk}/"),
    ]
    cases = []
    for name, client, url in plans:
        print(f"{name}: {url}", flush=True)
        cases.append(measure(name, partial(client.get, url), repeat))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets (default: 100000)")
    parser.add_argument("--messages-per-ticket", type=int, default=10, help="average messages per ticket (default: 10)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers, with 2 orders each (default: 20000)")
    parser.add_argument("--repeat", type=int, default=200, help="timed repetitions of each case (default: 200)")
    parser.add_argument("--deep", type=int, default=50, help="the list page the deep case fetches (default: 50)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each main query")
    parser.add_argument("--no-load", action="store_true", help="reuse the database a previous run loaded")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        help="the PostgreSQL server (default: $DATABASE_URL, else the local one); its database name is ignored",
    )
    parser.add_argument(
        "--database-name",
        default="helpdesk_inbox_bench",
        help="the bench's own database, DROPPED and created unless --no-load",
    )
    args = parser.parse_args()
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

    from helpdesk.tickets.models import Agent, AgentRole, Message, Ticket

    if args.no_load:
        manager = Agent.objects.get(role=AgentRole.MANAGER)
        agent = Agent.objects.get(user__username=f"{TEAMS[1]}-0")
    else:
        agent, manager = people_create()
        first_agent = Agent.objects.order_by("pk").values_list("pk", flat=True)[0]
        load(database_url, args, first_agent)
        print(f"loaded in {time.monotonic() - started:.1f} s (with migrate)", flush=True)
    tickets, messages = Ticket.objects.count(), Message.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"{tickets} tickets, {messages} messages, database {size}; {os.cpu_count()} CPUs", flush=True)

    cases = run(args, agent, manager)
    print()
    print(f"{args.repeat} requests each; times in ms; ratios are the request over its SQL run raw")
    print_table(cases)
    if args.explain:
        for case in cases:
            print(f"\n-- {case.name}\n{case.main}\n{explain(case.main)}")


if __name__ == "__main__":
    main()
