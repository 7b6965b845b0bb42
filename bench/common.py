"""What the benchmark scripts share."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg


def database_create(url: str) -> None:
    """Drop and create the database named in ``url``, through the server's ``postgres`` database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
