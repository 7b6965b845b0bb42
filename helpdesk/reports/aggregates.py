"""SQL pieces the reports need that Django does not ship: a continuous
percentile and the minutes between two datetimes.

PostgreSQL (production, CI) computes both in the database. SQLite (``make
run``) has neither, so ``sqlite_register`` adds a Python ``percentile_cont``
aggregate to every SQLite connection: the same ORM query then works there,
row values passing through Python only on that development database.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, Expression, F, FloatField, Func
from django.db.models.sql.compiler import SQLCompiler


class Percentile(Aggregate):
    """The ``fraction`` percentile (0.5: the median) of an expression, linearly
    interpolated between rows as PostgreSQL's percentile_cont does; None over
    no rows. Takes ``filter=`` like Count and Avg."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression: Expression | F | str, fraction: float, **extra: Any) -> None:
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("A percentile's fraction lies between 0 and 1.")
        # A float literal, not a parameter: PostgreSQL wants the fraction typed
        # as a number, and a checked float cannot carry SQL.
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        # The Python aggregate registered below takes the value and the fraction.
        # (Aggregate.as_sql passes its own template= when there is a filter, so set it on a copy.)
        clone = self.copy()
        clone.template = "%(function)s(%(expressions)s, %(fraction)s)"
        return super(Percentile, clone).as_sql(compiler, connection, **extra)


class MinutesBetween(Func):
    """``end - start`` in minutes as a float; NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end: str | Expression, start: str | Expression, **extra: Any) -> None:
        super().__init__(end, start, **extra)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:  # type: ignore[override]
        # PostgreSQL (and the fallback for other backends it does not know).
        return super().as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 60.0",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        # Django stores SQLite datetimes as ISO text in UTC, which julianday() reads.
        return super().as_sql(
            compiler, connection, template="(julianday(%(expressions)s)) * 1440.0", arg_joiner=") - julianday(", **extra
        )


class _SqlitePercentile:
    """percentile_cont(value, fraction) for SQLite: the values of the group
    are collected and interpolated at the end."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont on a list: the value at position
    fraction x (n - 1) of the sorted values, interpolating between neighbours."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def sqlite_register(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: adds percentile_cont to SQLite connections."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("percentile_cont", 2, _SqlitePercentile)
