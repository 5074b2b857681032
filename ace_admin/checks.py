"""System checks of the admin app: its settings, and the wiring a project that installs it must plug in."""

from __future__ import annotations

import ipaddress
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, reverse

from ace.policy import POLICY_NAMESPACE
from ace.settings import ace_settings
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


# --- Wiring: the pieces a project that installs ace_admin must plug in ---------------------------------------------

LOADER = "ace_admin.content.loader.Loader"
ROUTER = "ace_admin.rules.routing.DatabaseRouter"
DEFAULTS_PREPARER = "ace_admin.rules.defaults.apply_message_type_defaults"
UNSUBSCRIBE_PREPARER = "ace_admin.privacy.links.prepare_message"
MIDDLEWARE = "ace_admin.preview.csp.ContentSecurityPolicyMiddleware"
EMAIL_PROCESSOR = "ace_admin.content.email_ready.finish_email"
POLICY_ENTRY_POINT = "ace_admin"

#: Paths that moved when ace_admin was split into wings -> where they live now. The old paths still work
#: (thin alias modules), but a project should name the new ones.
MOVED = {
    "ace_admin.loader.Loader": LOADER,
    "ace_admin.routing.DatabaseRouter": ROUTER,
    "ace_admin.defaults.apply_message_type_defaults": DEFAULTS_PREPARER,
    "ace_admin.unsubscribe.prepare_message": UNSUBSCRIBE_PREPARER,
    "ace_admin.csp.ContentSecurityPolicyMiddleware": MIDDLEWARE,
}
_OLD = {new: old for old, new in MOVED.items()}


def _names(path: str, values) -> bool:
    """``values`` (a setting's list) names ``path``, or its old path."""
    return path in values or _OLD.get(path) in values


def _template_loaders() -> list[str]:
    found = []
    for backend in settings.TEMPLATES:
        if backend.get("BACKEND") != "django.template.backends.django.DjangoTemplates":
            continue
        for loader in (backend.get("OPTIONS") or {}).get("loaders") or []:
            if isinstance(loader, list | tuple):  # ("cached.Loader", [...]) or (loader, args)
                found.append(loader[0])
                found.extend(item if isinstance(item, str) else item[0] for item in
                             (loader[1] if len(loader) > 1 and isinstance(loader[1], list | tuple) else []))
            else:
                found.append(loader)
    return found


@checks.register("ace")
def check_wiring(app_configs=None, **kwargs):
    """Warn when a project installs ace_admin but leaves out a piece of its wiring (each names the setting)."""
    warnings = []
    if not _names(LOADER, _template_loaders()):
        warnings.append(checks.Warning(
            "Templates edited in the admin are never used: the ace_admin template loader is not configured.",
            hint=f"Put {LOADER!r} first in TEMPLATES[...]['OPTIONS']['loaders'] (with APP_DIRS off), before the "
                 "cached filesystem and app-directories loaders.", id="ace_admin.W001"))
    if not _names(ROUTER, ace_settings.ACE_CHANNEL_ROUTERS or []):
        warnings.append(checks.Warning(
            "Channel routes edited in the admin are ignored: the ace_admin router is not configured.",
            hint=f"Add {ROUTER!r} to ACE_CHANNEL_ROUTERS.", id="ace_admin.W002"))
    preparers = ace_settings.ACE_MESSAGE_PREPARERS or []
    if not _names(DEFAULTS_PREPARER, preparers):
        warnings.append(checks.Warning(
            "The sender, reply-to and transactional flag set on message types in the admin are ignored.",
            hint=f"Add {DEFAULTS_PREPARER!r} to ACE_MESSAGE_PREPARERS.", id="ace_admin.W003"))
    if not _names(UNSUBSCRIBE_PREPARER, preparers):
        warnings.append(checks.Warning(
            "Messages (campaigns included) go out without unsubscribe links or List-Unsubscribe headers.",
            hint=f"Add {UNSUBSCRIBE_PREPARER!r} to ACE_MESSAGE_PREPARERS.", id="ace_admin.W004"))
    enabled = ace_settings.ACE_ENABLED_POLICIES
    if POLICY_ENTRY_POINT not in {entry.name for entry in entry_points(group=POLICY_NAMESPACE)}:
        warnings.append(checks.Warning(
            "Opt-outs, suppressions and policy rules are not applied: the ace_admin policy is not installed.",
            hint=f"Install the package (pip install -e .) so that its {POLICY_NAMESPACE!r} entry point "
                 f"{POLICY_ENTRY_POINT!r} (ace_admin.rules.policy:DatabasePolicy) is registered.",
            id="ace_admin.W005"))
    elif enabled is not None and POLICY_ENTRY_POINT not in enabled:
        warnings.append(checks.Warning(
            "Opt-outs, suppressions and policy rules are not applied: ACE_ENABLED_POLICIES leaves out ace_admin.",
            hint=f"Add {POLICY_ENTRY_POINT!r} to ACE_ENABLED_POLICIES (or leave it unset to enable every policy).",
            id="ace_admin.W005"))
    if not _names(MIDDLEWARE, settings.MIDDLEWARE or []):
        warnings.append(checks.Warning(
            "The admin's template editor and preview pages are served without their Content-Security-Policy.",
            hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE.", id="ace_admin.W006"))
    if EMAIL_PROCESSOR not in (ace_settings.ACE_RENDERED_MESSAGE_PROCESSORS or []):
        warnings.append(checks.Warning(
            "Emails go out without their CSS inlined, and text parts do not follow HTML edited in the admin.",
            hint=f"Add {EMAIL_PROCESSOR!r} to ACE_RENDERED_MESSAGE_PROCESSORS.", id="ace_admin.W009"))
    try:
        reverse("ace_admin:unsubscribe", args=["x"])
    except NoReverseMatch:
        warnings.append(checks.Warning(
            "Unsubscribe and preference links cannot be built: ace_admin's public pages have no URL.",
            hint="Add path('ace/', include('ace_admin.urls')) to the project's ROOT_URLCONF.",
            id="ace_admin.W007"))
    return warnings


@checks.register("ace")
def check_moved_paths(app_configs=None, **kwargs):
    """Old dotted paths still work but should be replaced by the wings' paths."""
    named = {
        "TEMPLATES": _template_loaders(),
        "ACE_CHANNEL_ROUTERS": list(ace_settings.ACE_CHANNEL_ROUTERS or []),
        "ACE_MESSAGE_PREPARERS": list(ace_settings.ACE_MESSAGE_PREPARERS or []),
        "MIDDLEWARE": list(settings.MIDDLEWARE or []),
    }
    return [checks.Warning(f"{setting} names {old!r}, which moved to {MOVED[old]!r}.",
                           hint=f"Replace {old!r} by {MOVED[old]!r} in {setting}.", id="ace_admin.W008")
            for setting, values in named.items() for old in values if old in MOVED]
