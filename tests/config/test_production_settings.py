"""Production settings: HTTPS variables, `check --deploy` clean under production-like variables, and the
system check that wants an https ACE_PUBLIC_BASE_URL when DEBUG is off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ace_admin.checks import check_public_base_url
from config.env import env_proxy_ssl_header

ROOT = Path(__file__).resolve().parents[2]
SECURE = {
    "SECURE_SSL_REDIRECT": "true", "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true", "SESSION_COOKIE_SECURE": "true", "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
}


def _manage(tmp_path, *args, **variables) -> subprocess.CompletedProcess:
    """``manage.py`` with the project's own settings and only the given variables (nothing from this run)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "ACE_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path}/ace.sqlite3", "DJANGO_SETTINGS_MODULE": "config.settings",
           **variables}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def production(**overrides) -> dict:
    return {"DEBUG": "false", "SECRET_KEY": "k7#Vq2!pR9zL0mW4xT8sY6cN3bF1hJ5dG-aE_uQ=oI+vK@rZ&wX%yP^tS*lM",
            "ALLOWED_HOSTS": "ace.example.org", "ACE_PUBLIC_BASE_URL": "https://ace.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://ace.example.org", **SECURE, **overrides}


def test_check_deploy_prints_no_warning_with_production_variables(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_without_the_https_variables_check_deploy_names_what_is_missing(tmp_path):
    insecure = production(**{name: "" for name in SECURE})
    result = _manage(tmp_path, "check", "--deploy", **insecure)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_an_http_public_base_url_is_an_error_when_debug_is_off(tmp_path):
    result = _manage(tmp_path, "check", **production(ACE_PUBLIC_BASE_URL="http://ace.example.org"))
    assert result.returncode == 1
    assert "ace_admin.E001" in result.stderr and "http://ace.example.org" in result.stderr


def test_the_demo_variables_pass_the_checks(tmp_path):
    # make demo: DEBUG off (the default) and http on the loopback address.
    result = _manage(tmp_path, "check", ACE_PUBLIC_BASE_URL="http://127.0.0.1:8000")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(("debug", "url", "ok"), [
    (False, "https://ace.example.org", True),
    (False, "http://127.0.0.1:8000", True),
    (False, "http://localhost:8000", True),
    (False, "http://[::1]:8000", True),
    (False, "http://ace.example.org", False),
    (False, "ace.example.org", False),
    (False, "", False),
    (False, "https://", False),
    (True, "http://ace.example.org", True),
])
def test_public_base_url_check(settings, debug, url, ok):
    settings.DEBUG, settings.ACE_PUBLIC_BASE_URL = debug, url
    errors = check_public_base_url()
    assert (errors == []) is ok
    assert all(error.id == "ace_admin.E001" for error in errors)


@pytest.mark.parametrize(("raw", "expected"), [
    ("X-Forwarded-Proto=https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("HTTP_X_FORWARDED_PROTO=https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("", None),
])
def test_proxy_ssl_header_variable(monkeypatch, raw, expected):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    assert env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER") == expected


def test_an_unreadable_https_variable_names_itself(tmp_path):
    for name, raw in (("SECURE_HSTS_SECONDS", "a year"), ("SECURE_PROXY_SSL_HEADER", "https"),
                      ("SESSION_COOKIE_SECURE", "sometimes")):
        result = _manage(tmp_path, "check", **{name: raw})
        assert result.returncode != 0 and f"{name}={raw!r}" in result.stderr
