"""surveys.tokens: signed, expiring links; only digests are stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys.tokens import TokenError, token_digest, token_make, token_read

WEEK = timedelta(days=7)


def test_a_token_names_its_survey_and_is_never_the_same_twice() -> None:
    first, second = token_make(12), token_make(12)
    assert first != second
    claim = token_read(first, max_age=WEEK)
    assert claim.survey_id == 12
    assert claim.digest == token_digest(first) != first


@pytest.mark.parametrize("change", ["survey", "random", "signature"])
def test_an_altered_token_is_invalid(change: str) -> None:
    token = token_make(12)
    value, stamp, signature = token.split(":")
    survey, random = value.split(".")
    if change == "survey":
        token = f"13.{random}:{stamp}:{signature}"
    elif change == "random":
        token = f"{survey}.{random[:-1]}{'A' if random[-1] != 'A' else 'B'}:{stamp}:{signature}"
    else:
        token = f"{value}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    with pytest.raises(TokenError) as error:
        token_read(token, max_age=WEEK)
    assert error.value.code == "invalid"


@pytest.mark.parametrize("token", ["", "x", "1.abc", "a" * 500, "1.abc:zz:zz"])
def test_garbage_is_invalid(token: str) -> None:
    with pytest.raises(TokenError) as error:
        token_read(token, max_age=WEEK)
    assert error.value.code == "invalid"


def test_a_token_expires_after_its_lifetime() -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = token_make(5)
        clock.shift(WEEK - timedelta(seconds=5))
        assert token_read(token, max_age=WEEK).survey_id == 5
        clock.shift(timedelta(seconds=10))
        with pytest.raises(TokenError) as error:
            token_read(token, max_age=WEEK)
    assert error.value.code == "expired"
