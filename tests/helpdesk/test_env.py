import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_int, env_list, env_redis_url, parse_database_url


def test_booleans_accept_common_spellings_and_refuse_others():
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X must be true or false"):
        env_bool("X", False, environ={"X": "maybe"})


def test_integers_are_checked_against_their_range():
    assert env_int("N", 5, environ={"N": "12"}) == 12
    assert env_int("N", 5, environ={}) == 5
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 5, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1"):
        env_int("N", 5, minimum=1, environ={"N": "0"})


def test_lists_split_on_commas_and_drop_blanks():
    assert env_list("L", ["a"], environ={"L": "x.com, y.com,,"}) == ["x.com", "y.com"]
    assert env_list("L", ["a"], environ={}) == ["a"]


def test_postgres_url_becomes_django_database_settings():
    db = parse_database_url(
        "DATABASE_URL", "postgres://desk:s%40cret@db.local:6543/desk?sslmode=require", base_dir="/app"
    )

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "desk",
        "s@cret",
        "db.local",
        "6543",
        "desk",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_urls_take_relative_and_absolute_paths():
    assert parse_database_url("D", "sqlite:///db.sqlite3", base_dir="/app")["NAME"] == "/app/db.sqlite3"
    assert parse_database_url("D", "sqlite:////var/desk.db", base_dir="/app")["NAME"] == "/var/desk.db"


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host", "nonsense", "postgres://h:port/db"])
def test_bad_database_urls_name_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", url, base_dir="/app")


def test_redis_url_is_optional_but_checked():
    assert env_redis_url("REDIS_URL", environ={}) is None
    assert env_redis_url("REDIS_URL", environ={"REDIS_URL": "redis://127.0.0.1:6379/1"}) == "redis://127.0.0.1:6379/1"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env_redis_url("REDIS_URL", environ={"REDIS_URL": "http://x"})
