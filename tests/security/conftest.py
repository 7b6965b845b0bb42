"""What every attack test starts from: fresh rate-limit counters, and the
hostile strings attackers paste into help desks' text fields."""

from __future__ import annotations

import pytest
from django.core.cache import caches

# Script, event-handler and javascript: payloads, as they would be typed into any text field.
HOSTILE_TEXTS = (
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "javascript:alert(document.cookie)",
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    caches["ratelimit"].clear()
