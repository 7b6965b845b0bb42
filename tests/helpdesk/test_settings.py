"""Start-up refuses a bad configuration with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG"),
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "1", "REDIS_URL": "localhost"}, "REDIS_URL"),
        ({"DJANGO_DEBUG": "1", "DB_CONN_MAX_AGE": "-1"}, "DB_CONN_MAX_AGE"),
        ({"DJANGO_DEBUG": "1", "DESK_LANGUAGE": "klingon"}, "DESK_LANGUAGE"),
        ({"DJANGO_DEBUG": "1", "AGENT_OFFLINE_GRACE_SECONDS": "30"}, "AGENT_OFFLINE_GRACE_SECONDS"),
    ],
)
def test_bad_setting_stops_start_up_naming_the_variable(env, named):
    result = start(**env)

    assert result.returncode != 0
    assert named in result.stderr


def test_zero_config_default_starts_on_sqlite_and_memory_layer():
    result = start(DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
