"""The percentile aggregate: PostgreSQL's percentile_cont, and the Python
stand-in SQLite connections get."""

from __future__ import annotations

import sqlite3

import pytest

from helpdesk.reports.aggregates import Percentile, _SqlitePercentile, percentile_cont


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([10, 20, 60], 0.5, 20.0),
        ([10, 20, 60], 0.9, 52.0),
        ([1, 2, 3, 4], 0.5, 2.5),
        ([7], 0.9, 7.0),
        ([3, 1, 2], 0.0, 1.0),
        ([3, 1, 2], 1.0, 3.0),
        ([], 0.5, None),
    ],
)
def test_percentile_cont_interpolates_like_postgresql(values, fraction, expected):
    assert percentile_cont([float(v) for v in values], fraction) == expected


def test_the_sqlite_aggregate_skips_nulls_and_works_per_group():
    db = sqlite3.connect(":memory:")
    db.create_aggregate("percentile_cont", 2, _SqlitePercentile)  # type: ignore[arg-type]
    db.execute("CREATE TABLE t (g TEXT, x REAL)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [("a", 10), ("a", 20), ("a", 60), ("a", None), ("b", None)])

    rows = db.execute("SELECT g, percentile_cont(x, 0.5) FROM t GROUP BY g ORDER BY g").fetchall()

    assert rows == [("a", 20.0), ("b", None)]


def test_a_fraction_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        Percentile("x", 1.5)
