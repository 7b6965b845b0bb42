"""What the benchmark scripts share."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg


def database_create(url: str) -> None:
    """Drop and create the database named in ``url``, through the server's ``postgres`` database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def sql_load(url: str, steps: Sequence[tuple[str, str]], params: Mapping[str, Any]) -> None:
    """Run each (name, SQL) step with ``params`` in order, printing its row
    count and time, then VACUUM ANALYZE so the planner knows the new rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, sql in steps:
            started = time.monotonic()
            count = conn.execute(sql, params).rowcount
            print(f"  {name}: {count} rows in {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.monotonic() - started:.1f} s", flush=True)
