"""The browser fixtures of tests/browser (a daphne process, headless Chromium)."""

from tests.browser.conftest import browser, desk_server, desk_server_env, page  # noqa: F401
