"""The production settings (DJANGO_SECURE=1, docs/deployment.md) pass Django's
deploy checks, and behind the TLS proxy a page gets HSTS and secure cookies.

Settings are read once at start-up, so each case runs in a fresh process with
only the environment it names."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SECURE": "1",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "desk.example.com",
    "DATABASE_URL": "postgres://helpdesk:unused@127.0.0.1:5432/helpdesk",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)


# Asks the desk for a page the way nginx passes it on, and prints what came back.
FETCH = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="desk.example.com")
proxied = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})
plain = client.get("/admin/login/")
health = client.get("/healthz")
print(json.dumps({
    "status": proxied.status_code,
    "headers": dict(proxied.headers),
    "csrf_cookie_secure": bool(proxied.cookies["csrftoken"]["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "health_status": health.status_code,
}))
"""


def test_check_deploy_passes_with_the_production_environment():
    result = deploy_check(**PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_the_production_switch():
    result = deploy_check(**{**PRODUCTION, "DJANGO_SECURE": "0"})

    assert result.returncode != 0
    for warning in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert warning in result.stderr


def test_check_deploy_fails_with_debug_on():
    result = deploy_check(**PRODUCTION, DJANGO_DEBUG="1")

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_a_weak_secret_key_stops_start_up_in_production():
    result = deploy_check(**{**PRODUCTION, "DJANGO_SECRET_KEY": "short-but-not-empty"})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50 random characters" in result.stderr


def test_behind_the_tls_proxy_pages_get_hsts_and_secure_cookies():
    result = run(["-c", FETCH], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["status"] == 200
    assert seen["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in seen["headers"]["Content-Security-Policy"]
    # The socket the page may open is wss: on the desk's host.
    assert "wss://desk.example.com" in seen["headers"]["Content-Security-Policy"]
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_secure"] is True
    # Reached without TLS (no X-Forwarded-Proto: https), a page redirects to https ...
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://desk.example.com/admin/login/"
    # ... but the health probe, which reaches daphne directly, does not.
    assert seen["health_status"] != 301


def test_hsts_subdomains_and_preload_can_be_turned_off():
    env = {**PRODUCTION, "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "0", "DJANGO_HSTS_PRELOAD": "0"}
    result = run(["-c", FETCH], **env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["headers"]["Strict-Transport-Security"] == "max-age=31536000"
