"""CSV cells a spreadsheet cannot run, and the long form of a report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpdesk.reports.export import csv_lines, neutralise, report_rows


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+49 151 123", "'+49 151 123"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Lena", "Lena"),
        ("a=b", "a=b"),
        ("-12.5", "-12.5"),  # a plain number sent as text (money) stays a number
        ("-4.20", "-4.20"),
        (-12.5, -12.5),
        (3, 3),
        (Decimal("-1.50"), Decimal("-1.50")),
        (None, ""),
        (True, "true"),
    ],
)
def test_neutralise(cell, written):
    assert neutralise(cell) == written


def test_csv_lines_neutralise_every_cell():
    assert list(csv_lines([["=1+1", -3, None]])) == ["'=1+1,-3,\r\n"]


def test_a_report_in_long_form():
    report = {
        "figures": [{"key": "aov", "label": "AOV", "value": "54.20", "unit": "money", "currency": "EUR",
                     "previous": "50.00", "change": "4.20", "count": 3, "tickets": "/inbox/?a=1"}],
        "charts": [{"key": "c", "unit": "%", "series": [{"key": "csat", "label": "CSAT"}],
                    "points": [{"key": "2025-03-01", "label": "1 Mar", "values": {"csat": 80.0}, "tickets": "/p"}]}],
        "tables": [{"key": "agents", "columns": [{"key": "name", "label": "Agent", "unit": ""},
                                                 {"key": "csat", "label": "CSAT", "unit": "%"}],
                    "rows": [{"key": "3", "cells": {"name": "Lena", "csat": 75.0}, "tickets": "/r"}]}],
    }  # fmt: skip

    rows = list(report_rows(report, absolute=lambda path: "https://desk" + path))

    assert rows[1:] == [
        ["figure", "aov", "AOV", "aov", "54.20", "EUR", "50.00", "4.20", 3, "https://desk/inbox/?a=1"],
        ["c", "2025-03-01", "1 Mar", "csat", 80.0, "%", None, None, None, "https://desk/p"],
        ["agents", "3", "Lena", "csat", 75.0, "%", None, None, None, "https://desk/r"],
    ]
