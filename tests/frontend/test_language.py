"""The desk's pages declare their language and direction: DESK_LANGUAGE picks
the language, and a right-to-left one (Hebrew, Persian, ...) mirrors the layout."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation


def page_html(agent, url: str = "/inbox/") -> str:
    client = Client()
    client.force_login(agent.user)
    return client.get(url, follow=True).content.decode()


@pytest.mark.parametrize(
    ("language", "root"),
    [
        ("en-us", '<html lang="en-us" dir="ltr">'),
        ("he", '<html lang="he" dir="rtl">'),
        ("fa", '<html lang="fa" dir="rtl">'),
    ],
)
def test_the_desk_declares_language_and_direction(logistics_agent, settings, language, root):
    settings.LANGUAGE_CODE = language

    translation.deactivate()  # as in a request: no language chosen, so the desk's own

    html = page_html(logistics_agent)

    assert root in html
