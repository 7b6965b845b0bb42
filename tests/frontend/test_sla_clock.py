"""The SLA countdown partial (_sla_clock.html) that desk/sla.js ticks."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template.loader import render_to_string

from helpdesk.tickets.models import Ticket

DUE = datetime(2026, 11, 24, 9, 10, tzinfo=UTC)


def clock_html(**fields) -> str:
    return render_to_string("frontend/desk/_sla_clock.html", {"ticket": Ticket(pk=7, **fields)})


def test_a_running_clock_carries_its_due_time_and_says_it_in_text():
    html = clock_html(sla_due_at=DUE)

    assert 'data-sla-ticket="7"' in html
    assert f'data-sla-due="{DUE.isoformat()}"' in html
    assert 'data-sla-state="ok"' in html
    assert "data-sla-breached" not in html
    assert 'role="timer"' not in html  # a ticking live region would flood screen readers
    assert '<span class="sla-clock-time" aria-hidden="true">due ' in html
    assert '<span class="sr-only" data-sla-label>SLA due ' in html


def test_a_breached_clock_is_marked_in_text_as_well_as_colour():
    html = clock_html(sla_due_at=DUE, sla_breached_at=DUE)

    assert 'data-sla-state="breached"' in html
    assert f'data-sla-breached="{DUE.isoformat()}"' in html
    assert "SLA breached; " in html


def test_without_a_running_clock_the_element_is_hidden_until_a_live_update():
    html = clock_html()

    assert "hidden" in html and "data-sla-due" not in html
    assert 'data-sla-state="none"' in html
