"""System checks of the admin app's settings."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from ace_admin.settings import admin_settings


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checks.register(checks.Tags.security, deploy=False)
def check_public_base_url(app_configs=None, **kwargs):
    """With DEBUG off, ACE_PUBLIC_BASE_URL must be https: RFC 8058 one-click unsubscribe links must be https,
    and mailbox providers ignore others. Loopback hosts (``make demo`` on http://127.0.0.1) are allowed."""
    if settings.DEBUG:
        return []
    url = admin_settings.ACE_PUBLIC_BASE_URL or ""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return []
    return [checks.Error(
        f"ACE_PUBLIC_BASE_URL={url!r} is not an https URL while DEBUG is off.",
        hint="Set ACE_PUBLIC_BASE_URL to the https address recipients reach this site at (e.g. "
             "https://ace.example.org): unsubscribe links in emails are built on it and RFC 8058 one-click "
             "unsubscribe requires https. Plain http is allowed only for loopback hosts (local demos).",
        id="ace_admin.E001")]
