"""Browser tests: a real daphne process on the test database, driven through
Debian's chromium by Playwright. Tests here use ``transactional_db`` so the
server process sees their rows."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from helpdesk.tickets.models import Agent
from tests.servers import Daphne, StaticSite

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


@pytest.fixture
def desk_server_env() -> dict[str, str]:
    """Extra environment for the desk process; override in a test module."""
    return {}


@pytest.fixture
def desk_server(transactional_db, desk_server_env) -> Iterator[str]:
    """A daphne process serving the desk on the test database; yields its base URL."""
    server = Daphne(env=desk_server_env).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API runs an event loop in
    this thread while it is open, so it is closed before other modules run and,
    meanwhile, the tests' own ORM calls (plain synchronous code) are allowed."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"No chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def watch_csp(context: BrowserContext) -> list[str]:
    """Collects the console errors in which Chromium reports a Content-Security-Policy
    violation (helpdesk/security.py), on every page of the context."""
    violations: list[str] = []
    context.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def assert_no_csp_violations(violations: list[str]) -> None:
    if violations:
        pytest.fail("The page broke its Content-Security-Policy:\n" + "\n".join(violations), pytrace=False)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert_no_csp_violations(violations)


@pytest.fixture
def signed_in(browser) -> Iterator[Callable[[str, Agent], Page]]:
    """Opens a page in a new browser context holding the agent's desk session cookie."""
    contexts: list[BrowserContext] = []
    watched: list[list[str]] = []

    def open_page(base: str, agent: Agent) -> Page:
        client = Client()
        client.force_login(agent.user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        watched.append(watch_csp(context))
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert_no_csp_violations([text for violations in watched for text in violations])


@pytest.fixture
def shop_folder(tmp_path) -> Path:
    """The shop site's files; a test writes its page once it knows the desk's URL."""
    folder = tmp_path / "shop"
    folder.mkdir()
    return folder


@pytest.fixture
def shop_site(shop_folder) -> Iterator[StaticSite]:
    """The shop's own site, on another origin than the desk."""
    site = StaticSite(shop_folder)
    yield site
    site.stop()
