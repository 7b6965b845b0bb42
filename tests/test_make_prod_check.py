"""`make prod-check` passes on the shipped production example and fails on a
broken setting or a broken nginx configuration (docs/deployment.md)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "deploy" / "production.env.example"


def prod_check(*make_args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "prod-check", *make_args],  # noqa: S607
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_shipped_example_passes():
    result = prod_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    if shutil.which("nginx"):
        assert "test is successful" in result.stderr
    else:
        assert "nginx is not installed" in result.stdout


def test_the_calling_shell_does_not_leak_into_the_check():
    result = prod_check(DJANGO_DEBUG="1", DJANGO_SECURE="0")

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_setting_fails(tmp_path):
    env_file = tmp_path / "production.env"
    env_file.write_text(EXAMPLE.read_text() + f"DJANGO_DEBUG=1\nDJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n")

    result = prod_check(f"PROD_ENV={env_file}")

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_a_real_environment_file_must_carry_its_own_secret(tmp_path):
    env_file = tmp_path / "production.env"
    env_file.write_text(EXAMPLE.read_text())

    result = prod_check(f"PROD_ENV={env_file}")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx-light)")
def test_a_broken_nginx_configuration_fails(tmp_path):
    broken = tmp_path / "nginx.conf"
    broken.write_text(
        (ROOT / "deploy" / "nginx.conf").read_text().replace("proxy_http_version 1.1;", "proxy_http_version;", 1)
    )

    result = prod_check(NGINX_CONF=str(broken))

    assert result.returncode != 0
    assert "proxy_http_version" in result.stderr
