"""Assignment within a team: who gets the next ticket, the queue's order,
capacity, agents going away or offline, and concurrent drains on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.customers.models import Shop
from helpdesk.tickets import notify
from helpdesk.tickets.assignment_services import (
    Candidate,
    Pick,
    agent_loads,
    agent_pick,
    agent_release,
    agents_offline_sweep,
    assignment_sweep,
    team_queue,
    team_queue_drain,
)
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
    AuthorKind,
    EventKind,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import agent_group, team_group
from helpdesk.tickets.services import agent_seen, message_post, ticket_assign, ticket_merge, ticket_set_status
from helpdesk.tickets.tasks import assignment_run
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

# -- helpers ------------------------------------------------------------------------------------


def online(agent: Agent, *, capacity: int = 3, seen: datetime | None = None) -> Agent:
    agent.status = AgentStatus.ONLINE
    agent.last_seen_at = seen or timezone.now()
    agent.max_concurrent_chats = capacity
    agent.save(update_fields=["status", "last_seen_at", "max_concurrent_chats"])
    return agent


def tickets(team: Team, n: int, **fields: Any) -> list[Ticket]:
    customer = make_customer(Shop.objects.first() or make_shop()[0])
    made = [make_ticket(customer, team, subject=f"Chat {i}") for i in range(n)]
    if fields:
        Ticket.objects.filter(pk__in=[t.pk for t in made]).update(**fields)
    return made


def given(ticket: Ticket, agent: Agent, status: TicketStatus = TicketStatus.OPEN) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, status=status)


def queued_drains() -> list[int]:
    rows = DBTaskResult.objects.ready().filter(task_path=assignment_run.module_path).order_by("enqueued_at")
    return [row.args_kwargs["kwargs"]["team_id"] for row in rows]


def run_queued_drains() -> int:
    """What a db_worker would do with the queued drains, here and now."""
    assigned = 0
    while rows := list(DBTaskResult.objects.ready().filter(task_path=assignment_run.module_path)):
        for row in rows:
            assigned += assignment_run.call(**row.args_kwargs["kwargs"])
            row.delete()
    return assigned


def assignee_of(ticket: Ticket) -> int | None:
    return Ticket.objects.values_list("assignee_id", flat=True).get(pk=ticket.pk)


@pytest.fixture
def team(db) -> Team:
    return make_team("support")


@pytest.fixture
def ann(team) -> Agent:
    return make_agent("ann", teams=(team,))


@pytest.fixture
def ben(team) -> Agent:
    return make_agent("ben", teams=(team,))


@pytest.fixture
def cat(team) -> Agent:
    return make_agent("cat", teams=(team,))


@pytest.fixture
def sent(monkeypatch) -> list[tuple[list[str], dict[str, Any]]]:
    calls: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(notify, "_send", lambda events: calls.extend((list(g), e) for g, e in events))
    return calls


# -- the picker (pure) ----------------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def picked(candidates: list[Candidate]) -> Pick:
    pick = agent_pick(candidates)
    assert pick is not None
    return pick


def test_the_picker_takes_the_least_loaded_then_the_longest_waiting_then_the_lowest_id():
    busy = Candidate(1, load=2, capacity=3, last_assigned_at=None)
    recent = Candidate(2, load=1, capacity=3, last_assigned_at=T0 + timedelta(minutes=5))
    earlier = Candidate(3, load=1, capacity=3, last_assigned_at=T0)
    never = Candidate(4, load=1, capacity=3, last_assigned_at=None)
    never_too = Candidate(5, load=1, capacity=3, last_assigned_at=None)

    assert picked([busy, recent, earlier]).candidate == earlier
    assert picked([busy, recent, earlier, never_too, never]).candidate == never
    assert picked([busy, recent, earlier, never]).tied == 3
    assert picked([busy]).candidate == busy


def test_the_picker_finds_nobody_when_everyone_is_at_capacity():
    assert agent_pick([Candidate(1, 3, 3, None), Candidate(2, 1, 1, T0)]) is None
    assert agent_pick([]) is None


# -- who gets a ticket ----------------------------------------------------------------------------


def test_the_least_loaded_agent_gets_the_next_ticket(team, ann, ben):
    online(ann), online(ben)
    [mine] = tickets(team, 1)
    given(mine, ann)
    [waiting] = tickets(team, 1)

    [assignment] = team_queue_drain(team=team)

    assert (assignment.ticket_id, assignment.agent_id) == (waiting.pk, ben.pk)
    event = TicketEvent.objects.get(ticket=waiting, kind=EventKind.ASSIGNED)
    assert event.actor is None
    assert event.data == {"old": None, "new": ben.pk, "name": "Ben", "reason": "auto: least loaded, 1 of 3 chats"}


def test_equally_loaded_agents_take_turns(team, ann, ben, cat):
    online(ann), online(ben), online(cat)
    tickets(team, 6)

    done = team_queue_drain(team=team)

    assert [a.agent_id for a in done] == [ann.pk, ben.pk, cat.pk] * 2
    assert done[0].reason == "auto: least loaded, 1 of 3 chats; round robin among 3"
    assert agent_loads(agent_ids=[ann.pk, ben.pk, cat.pk]) == {ann.pk: 2, ben.pk: 2, cat.pk: 2}


def test_round_robin_continues_from_the_last_assignment(team, ann, ben):
    online(ann), online(ben)
    tickets(team, 1)
    [first] = team_queue_drain(team=team)
    Ticket.objects.filter(pk=first.ticket_id).update(status=TicketStatus.SOLVED)
    tickets(team, 1)

    [second] = team_queue_drain(team=team)

    assert (first.agent_id, second.agent_id) == (ann.pk, ben.pk)


def test_away_offline_silent_inactive_and_other_teams_agents_get_nothing(team, ann, ben, cat):
    online(ann)
    ann.status = AgentStatus.AWAY
    ann.save()
    online(ben, seen=timezone.now() - timedelta(seconds=91))  # silent longer than AGENT_ONLINE_SECONDS
    online(cat)
    cat.user.is_active = False
    cat.user.save()
    elsewhere = online(make_agent("dov", teams=(make_team("returns"),)))
    make_agent("eve", teams=(team,))  # offline
    tickets(team, 2)

    assert team_queue_drain(team=team) == []

    online(ben)
    assert {a.agent_id for a in team_queue_drain(team=team)} == {ben.pk}
    assert elsewhere.tickets.count() == 0


def test_capacity_is_respected_and_the_rest_waits(team, ann, ben):
    online(ann, capacity=2), online(ben, capacity=1)
    made = tickets(team, 5)

    done = team_queue_drain(team=team)

    assert Counter(a.agent_id for a in done) == {ann.pk: 2, ben.pk: 1}
    assert list(team_queue(team=team).values_list("pk", flat=True)) == [made[3].pk, made[4].pk]


def test_pending_tickets_do_not_count_toward_load_and_tickets_elsewhere_do(team, ann):
    online(ann, capacity=2)
    other = make_team("returns")
    ann.teams.add(other)
    waiting_on_customer = tickets(team, 2)
    for ticket in waiting_on_customer:
        given(ticket, ann, TicketStatus.PENDING)
    [in_other_team] = tickets(other, 1)
    given(in_other_team, ann)
    tickets(team, 3)

    done = team_queue_drain(team=team)

    assert len(done) == 1
    assert agent_loads(agent_ids=[ann.pk]) == {ann.pk: 2}


def test_the_queue_puts_breached_tickets_first_then_priority_then_age(team, ann):
    online(ann, capacity=10)
    now = timezone.now()
    old_low, old_normal, new_urgent, new_high, breached_low, newer_high = tickets(team, 6)
    ages = {old_low: 50, old_normal: 40, new_urgent: 10, new_high: 9, breached_low: 5, newer_high: 1}
    priorities = {old_low: "low", old_normal: "normal", new_urgent: "urgent", new_high: "high", breached_low: "low"}
    for ticket, minutes in ages.items():
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=now - timedelta(minutes=minutes), priority=priorities.get(ticket, TicketPriority.HIGH)
        )
    Ticket.objects.filter(pk=breached_low.pk).update(sla_breached_at=now)

    done = team_queue_drain(team=team)

    expected = [breached_low, new_urgent, new_high, newer_high, old_normal, old_low]
    assert [a.ticket_id for a in done] == [t.pk for t in expected]


def test_an_assignment_notifies_the_agent_and_the_team(team, ann, sent, django_capture_on_commit_callbacks):
    online(ann)
    [ticket] = tickets(team, 1)

    with django_capture_on_commit_callbacks(execute=True):
        team_queue_drain(team=team)

    [(groups, event)] = sent
    assert {agent_group(ann.pk), team_group(team.pk)} <= set(groups)
    assert (event["change"], event["ticket"]["id"], event["ticket"]["assignee"]["id"]) == (
        "assigned",
        ticket.pk,
        ann.pk,
    )


# -- triggers -----------------------------------------------------------------------------------


def test_opening_a_ticket_queues_a_drain_of_its_team(team, ann):
    online(ann)

    [ticket] = tickets(team, 1)

    assert queued_drains() == [team.pk]
    assert run_queued_drains() == 1
    assert assignee_of(ticket) == ann.pk


def test_solving_a_chat_assigns_the_next_waiting_ticket(team, ann):
    online(ann, capacity=1)
    first, second = tickets(team, 2)
    run_queued_drains()
    assert (assignee_of(first), assignee_of(second)) == (ann.pk, None)

    ticket_set_status(ticket=first, actor=ann, status=TicketStatus.SOLVED)

    assert queued_drains() == [team.pk]
    run_queued_drains()
    assert assignee_of(second) == ann.pk


def test_setting_a_chat_pending_frees_capacity_too(team, ann):
    online(ann, capacity=1)
    first, second = tickets(team, 2)
    run_queued_drains()

    ticket_set_status(ticket=first, actor=ann, status=TicketStatus.PENDING)
    run_queued_drains()

    assert (assignee_of(first), assignee_of(second)) == (ann.pk, ann.pk)


def test_a_ticket_put_back_in_the_queue_or_moved_is_drained(team, ann, ben):
    online(ann), online(ben)
    returns = make_team("returns")
    [ticket] = tickets(team, 1)
    run_queued_drains()

    ticket_assign(ticket=ticket, actor=ann, assignee=None, team=returns)

    assert set(queued_drains()) == {returns.pk, team.pk}


def test_a_customer_reopening_an_unassigned_ticket_queues_it_again(team):
    [ticket] = tickets(team, 1, status=TicketStatus.PENDING)
    DBTaskResult.objects.all().delete()

    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Still nothing")

    assert queued_drains() == [team.pk]


def test_merging_an_assigned_chat_frees_its_agent(team, ann):
    online(ann)
    source, target = tickets(team, 2)
    given(source, ann)
    DBTaskResult.objects.all().delete()

    ticket_merge(source=source, target=target, actor=ann)

    assert queued_drains() == [team.pk]


def test_an_agent_coming_online_drains_their_teams(team, ann):
    [ticket] = tickets(team, 1)
    run_queued_drains()
    assert assignee_of(ticket) is None

    agent_seen(agent=ann, status=AgentStatus.ONLINE)

    assert queued_drains() == [team.pk]
    run_queued_drains()
    assert assignee_of(ticket) == ann.pk


def test_a_heartbeat_after_a_silence_drains_but_a_steady_one_does_not(team, ann):
    online(ann, seen=timezone.now() - timedelta(seconds=100))

    agent_seen(agent=ann)
    agent_seen(agent=ann)

    assert queued_drains() == [team.pk]


def test_the_sweep_drains_what_no_trigger_announced(team, ann):
    online(ann, capacity=1)
    tickets(team, 3)
    run_queued_drains()
    Agent.objects.filter(pk=ann.pk).update(max_concurrent_chats=3)  # raised in the admin

    assert assignment_sweep(now=timezone.now()) == 2
    assert assignment_sweep(now=timezone.now()) == 0
    assert team_queue(team=team).count() == 0


# -- going away or offline -------------------------------------------------------------------------


def test_going_away_hands_open_chats_back_and_keeps_pending_ones(
    team, ann, ben, sent, django_capture_on_commit_callbacks
):
    online(ann), online(ben)
    open_one, new_one, pending = tickets(team, 3)
    given(open_one, ann)
    given(new_one, ann, TicketStatus.NEW)
    given(pending, ann, TicketStatus.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        agent_seen(agent=ann, status=AgentStatus.AWAY)

    assert (assignee_of(open_one), assignee_of(new_one), assignee_of(pending)) == (None, None, ann.pk)
    event = TicketEvent.objects.filter(ticket=open_one, kind=EventKind.ASSIGNED).latest("id")
    assert event.data == {"old": ann.pk, "new": None, "name": "", "reason": "released: Ann went away"}
    assert all(agent_group(ann.pk) in groups for groups, _ in sent) and len(sent) == 2
    run_queued_drains()
    assert (assignee_of(open_one), assignee_of(new_one)) == (ben.pk, ben.pk)


def test_an_away_agent_is_not_given_back_what_they_released(team, ann):
    online(ann)
    tickets(team, 2)
    run_queued_drains()

    agent_seen(agent=ann, status=AgentStatus.AWAY)
    run_queued_drains()

    assert team_queue(team=team).count() == 2
    agent_seen(agent=ann, status=AgentStatus.ONLINE)
    run_queued_drains()
    assert team_queue(team=team).count() == 0


def test_release_with_nothing_open_changes_nothing(team, ann):
    assert agent_release(agent=ann, reason="test") == []
    assert queued_drains() == []


def test_the_offline_sweep_waits_for_the_grace_period(team, ann, ben, settings):
    settings.AGENT_OFFLINE_GRACE_SECONDS = 120
    with time_machine.travel(T0, tick=False):
        online(ann), online(ben)
        open_one, pending = tickets(team, 2)
        given(open_one, ann)
        given(pending, ann, TicketStatus.PENDING)
        DBTaskResult.objects.all().delete()

    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        agent_seen(agent=ben)
    with time_machine.travel(T0 + timedelta(seconds=100), tick=False):
        assert agents_offline_sweep(now=timezone.now()) == 0
    with time_machine.travel(T0 + timedelta(seconds=121), tick=False):
        assert agents_offline_sweep(now=timezone.now()) == 1

        ann.refresh_from_db()
        assert (ann.status, ann.status_changed_at) == (AgentStatus.OFFLINE, timezone.now())
        assert (assignee_of(open_one), assignee_of(pending)) == (None, ann.pk)
        event = TicketEvent.objects.filter(ticket=open_one, kind=EventKind.ASSIGNED).latest("id")
        assert event.data["reason"] == "released: Ann offline, no desk for 120 s"
        assert queued_drains() == [team.pk]
        run_queued_drains()
        assert assignee_of(open_one) == ben.pk
        assert agents_offline_sweep(now=timezone.now()) == 0  # done once

    with time_machine.travel(T0 + timedelta(seconds=130), tick=False):
        agent_seen(agent=ann)  # the desk is back: online again
        ann.refresh_from_db()
        assert ann.status == AgentStatus.ONLINE


# -- concurrency on PostgreSQL ------------------------------------------------------------------------


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) on n threads at once, each on its own database connection."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def assigned_events() -> Counter[int]:
    return Counter(
        TicketEvent.objects.filter(kind=EventKind.ASSIGNED).exclude(data__new=None).values_list("ticket_id", flat=True)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("workers", [4, 8])
def test_parallel_drains_never_assign_twice_nor_exceed_capacity(transactional_db, workers):
    team = make_team("support")
    agents = [online(make_agent(f"agent{i}", teams=(team,)), capacity=3) for i in range(3)]
    tickets(team, 30)

    results = in_threads(workers, lambda i: team_queue_drain(team=team))

    assigned = [a.ticket_id for result in results for a in result]
    assert len(assigned) == len(set(assigned)) == 9
    assert Ticket.objects.filter(assignee__isnull=False).count() == 9
    assert max(assigned_events().values()) == 1 and sum(assigned_events().values()) == 9
    assert agent_loads(agent_ids=[a.pk for a in agents]) == {a.pk: 3 for a in agents}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_agents_freeing_capacity_at_once_get_one_ticket_each(transactional_db):
    team = make_team("support")
    agents = [online(make_agent(f"agent{i}", teams=(team,)), capacity=2) for i in range(2)]
    tickets(team, 10)
    team_queue_drain(team=team)
    held = {a.pk: list(Ticket.objects.filter(assignee=a).order_by("pk")) for a in agents}

    def solve_then_drain(i: int) -> list[Any]:
        agent = agents[i % 2]
        ticket_set_status(ticket=held[agent.pk][i // 2], actor=agent, status=TicketStatus.SOLVED)
        return team_queue_drain(team=team)

    results = in_threads(4, solve_then_drain)  # each agent solves both their chats at once

    assert sum(len(result) for result in results) == 4
    assert agent_loads(agent_ids=[a.pk for a in agents]) == {a.pk: 2 for a in agents}
    assert max(assigned_events().values()) == 1
    assert team_queue(team=team).count() == 10 - 4 - 4


def wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Until another connection of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # the view is otherwise fixed per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("nobody waited on a lock")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_drain_waiting_for_a_ticket_an_agent_is_writing_on_does_not_deadlock(transactional_db):
    team = make_team("support")
    ann = online(make_agent("ann", teams=(team,)))
    [ticket] = tickets(team, 1)
    holding, written = threading.Event(), threading.Event()

    def agent_writes_on_the_ticket(i: int) -> None:
        # A service's shape: the ticket's row lock, then a row pointing at the agent.
        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=ticket.pk)
            holding.set()
            wait_for_a_lock_wait()  # the drain holds the agents and waits for this ticket
            TicketEvent.objects.create(ticket=ticket, kind=EventKind.NOTE, actor=ann)
        written.set()

    def drain(i: int) -> list[Any]:
        holding.wait(timeout=10)
        return team_queue_drain(team=team)

    _, drained = in_threads(2, lambda i: agent_writes_on_the_ticket(i) if i == 0 else drain(i))

    assert written.is_set()
    assert [(a.ticket_id, a.agent_id) for a in drained] == [(ticket.pk, ann.pk)]
