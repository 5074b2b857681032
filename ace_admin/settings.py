"""Every ``ACE_*`` setting the admin app reads, with its default and meaning, in one place.

Read a setting as ``admin_settings.ACE_CAMPAIGN_BATCH_SIZE``. Values are cached and dropped again whenever
Django's ``setting_changed`` fires (``override_settings`` in tests), like the engine's ``ace_settings``
(``ace/settings.py``), which holds the settings the engine reads (``ACE_CHANNEL_*``, ``ACE_MESSAGE_PREPARERS``...).
The README's table of these settings is :func:`markdown_table`'s output (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ace.settings import AceSettings, on_reload


class Setting(NamedTuple):
    default: Any
    meaning: str


SETTINGS: dict[str, Setting] = {
    # Links in messages (privacy wing).
    "ACE_PUBLIC_BASE_URL": Setting(
        None, "where recipients reach this site (unsubscribe and preference links); unset: "
              "`http://127.0.0.1:8000`, and with `DEBUG` off an error of `manage.py check` unless https"),
    "ACE_UNSUBSCRIBE_MAILTO": Setting(
        "", "an address that unsubscribes whoever writes to it, added to `List-Unsubscribe`; empty: https link only"),
    # Preview and import (content and preview wings).
    "ACE_TEST_SEND_LIMIT_PER_HOUR": Setting(20, "test messages one staff user may send per hour from the preview"),
    "ACE_ADMIN_IMPORT_MAX_BYTES": Setting(10 * 1024 * 1024, "the largest file any admin import accepts, in bytes"),
    # Email-client-ready HTML and image assets (content wing).
    "ACE_ADMIN_INLINE_CSS": Setting(True, "inline the CSS of every email's HTML at send time (css-inline); "
                                          "`<style>` blocks are kept for media queries"),
    "ACE_ADMIN_ASSET_MAX_BYTES": Setting(5 * 1024 * 1024, "the largest image an editor may upload, in bytes"),
    "ACE_ADMIN_ASSET_MAX_PIXELS": Setting(40_000_000, "the most pixels (width × height) of an uploaded image"),
    # Publishing (content wing).
    "ACE_ADMIN_PUBLISH_REQUIRES_SECOND_PERSON": Setting(
        False, "a draft of a transactional message type's template is published (or scheduled) only by a manager "
               "who is not its author"),
    "ACE_ADMIN_REQUIRE_UNSUBSCRIBE_LINK": Setting(
        True, "publishing the HTML body of a non-transactional email whose rendering has no link to "
              "`unsubscribe_url` is refused; `False`: published with a warning"),
    # The template sandbox: limits per message (content wing).
    "ACE_ADMIN_TEMPLATE_MAX_BYTES": Setting(2 * 1024 * 1024, "text one message may produce, in bytes"),
    "ACE_ADMIN_TEMPLATE_MAX_SECONDS": Setting(2.0, "time one message may take, in seconds"),
    "ACE_ADMIN_TEMPLATE_MAX_NODES": Setting(200_000, "template nodes and filter calls per message"),
    "ACE_ADMIN_TEMPLATE_MAX_INCLUDES": Setting(1000, "`{% include %}` / `{% extends %}` per message"),
    "ACE_ADMIN_TEMPLATE_MAX_DEPTH": Setting(10, "nested includes"),
    "ACE_ADMIN_TEMPLATE_MAX_ARGUMENT": Setting(10_000, "widths, precisions, counts given to filters and tags"),
    "ACE_ADMIN_TEMPLATE_MAX_ITEMS": Setting(100_000, "items of one list or dict value a template may handle"),
    # Campaigns.
    "ACE_CAMPAIGN_BATCH_SIZE": Setting(500, "recipients per batch (one worker task)"),
    "ACE_CAMPAIGN_LEASE_SECONDS": Setting(60, "seconds a silent worker keeps a batch before another takes it over"),
    "ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS": Setting(10, "first wait before retrying a recoverable failure (doubles)"),
    "ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS": Setting(3600, "longest wait between two retries"),
    "ACE_ADMIN_MAX_TASK_DELIVERIES": Setting(3, "workers that may die processing one message (campaign or "
                                             "`send_message`) before it is logged failed; `0`: no cap"),
    "ACE_CAMPAIGN_MAX_ATTEMPTS": Setting(10, "attempts per message before it is logged failed"),
    "ACE_CAMPAIGN_DEFAULT_EXPIRATION_HOURS": Setting(24, "hours a run may keep retrying when its campaign gives none"),
    "ACE_CAMPAIGN_RATE_LIMITS": Setting({}, "channel name -> messages per second, shared by all workers"),
    "ACE_CAMPAIGN_PREFLIGHT": Setting(True, "render each run's message for a sample of its audience before it starts "
                                            "and block it on a template error or a missing variable; `False`: no "
                                            "check (not for production)"),
    # Events after sending: bounces, complaints, opens, clicks (events wing).
    "ACE_EVENTS_RAW_PAYLOAD_DAYS": Setting(30, "days an event keeps the provider's raw payload (`ace_purge_events`)"),
    "ACE_EVENTS_SOFT_BOUNCE_LIMIT": Setting(3, "soft bounces of one address within the window that suppress it"),
    "ACE_EVENTS_SOFT_BOUNCE_WINDOW_DAYS": Setting(7, "the window in which soft bounces are counted, in days"),
    "ACE_EVENTS_SOFT_BOUNCE_SUPPRESS_DAYS": Setting(14, "days an address stays suppressed after repeated soft bounces"),
    "ACE_BOUNCE_DOMAIN": Setting("", "domain of the per-message envelope sender (VERP) over SMTP, e.g. "
                                     "`bounces.example.org`; empty: no VERP (the From address gets the bounces)"),
    "ACE_BOUNCE_LOCAL_PART": Setting("bounces", "local part before `+token` of the envelope sender"),
    "ACE_BOUNCE_WEBHOOK_SECRET": Setting("", "`user:password` for HTTP basic auth on the raw-MIME bounce endpoint "
                                             "`/ace/events/bounces/`; empty: the endpoint is off"),
    "ACE_TRACKING_DEFAULT": Setting(False, "ACE's own open/click tracking for message types set to 'as category' "
                                           "whose category is not listed below (never for transactional ones)"),
    "ACE_TRACKING_CATEGORIES": Setting([], "categories whose message types are tracked by default"),
    "ACE_TRACKING_SCANNER_SECONDS": Setting(10, "a click this soon after sending is taken for a security scanner"),
    "ACE_TRACKING_MACHINE_USER_AGENTS": Setting(
        ["barracuda", "proofpoint", "mimecast", "symantec", "messagelabs", "forcepoint", "trendmicro",
         "cisco", "ironport", "fortiguard", "safelinks", "bot", "crawler", "spider", "python-requests", "curl/",
         "wget", "go-http-client", "headlesschrome"],
        "lower-case user-agent fragments of link scanners and prefetchers (opens/clicks flagged as machine)"),
    "ACE_TRACKING_MACHINE_NETWORKS": Setting(["17.0.0.0/8"], "IP networks whose opens are machine opens (Apple "
                                                              "Mail Privacy Protection fetches from Apple's 17/8)"),
    "ACE_TRACKING_FLUSH_SECONDS": Setting(1.0, "opens and clicks are buffered in the web process and written at "
                                               "most this many seconds later, in one bulk insert"),
    # Reports and the dashboard (reports wing). Defaults from what mailbox providers and ESPs publish (README).
    "ACE_REPORTS_BOUNCE_RATE_WARNING": Setting(0.02, "bounce rate (bounced / sent) the dashboard flags as a warning"),
    "ACE_REPORTS_BOUNCE_RATE_ALERT": Setting(0.05, "bounce rate flagged as an alert (Amazon SES reviews accounts "
                                                   "at 5%)"),
    "ACE_REPORTS_COMPLAINT_RATE_WARNING": Setting(0.001, "complaint rate (spam reports / delivered) flagged as a "
                                                         "warning (Google: keep it below 0.1%)"),
    "ACE_REPORTS_COMPLAINT_RATE_ALERT": Setting(0.003, "complaint rate flagged as an alert (Google and Yahoo: "
                                                       "never reach 0.3%)"),
    "ACE_REPORTS_MIN_SENT": Setting(100, "messages a period or run must have sent before its rates are flagged"),
    "ACE_REPORTS_SUPPRESSION_SPIKE": Setting(3.0, "suppressions of the last 24 hours, as a multiple of the daily "
                                                  "average of the 7 days before, that the dashboard flags (at "
                                                  "least 10)"),
}

#: Setting name -> default.
DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in SETTINGS.items()}

admin_settings = AceSettings(DEFAULTS)
on_reload(admin_settings.reload)  # the engine's setting_changed receiver runs its reload hooks


def markdown_table() -> str:
    """The README's table of these settings."""
    lines = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for name, setting in SETTINGS.items():
        lines.append(f"| `{name}` | `{setting.default!r}` | {setting.meaning} |")
    return "\n".join(lines)
