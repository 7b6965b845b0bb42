"""Survey settings: a bad value stops start-up naming the variable."""

from __future__ import annotations

import pytest

from tests.helpdesk.test_settings import start


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SURVEY_COOLDOWN_DAYS": "-1"}, "SURVEY_COOLDOWN_DAYS"),
        ({"SURVEY_TOKEN_DAYS": "0"}, "SURVEY_TOKEN_DAYS"),
        ({"SURVEY_WEBHOOK_URLS": "https://shop.example/hooks"}, "SURVEY_WEBHOOK_SECRET"),
        ({"SURVEY_WEBHOOK_MAX_ATTEMPTS": "many"}, "SURVEY_WEBHOOK_MAX_ATTEMPTS"),
        ({"SURVEY_RATE_LIMIT_PER_IP": "0"}, "SURVEY_RATE_LIMIT_PER_IP"),
    ],
)
def test_a_bad_survey_setting_stops_start_up(env: dict[str, str], named: str) -> None:
    result = start(DJANGO_DEBUG="1", **env)
    assert result.returncode != 0
    assert named in result.stderr


def test_webhooks_with_a_secret_start() -> None:
    result = start(DJANGO_DEBUG="1", SURVEY_WEBHOOK_URLS="https://shop.example/hooks", SURVEY_WEBHOOK_SECRET="s")
    assert result.returncode == 0, result.stderr
