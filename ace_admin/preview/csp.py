"""Content-Security-Policy for the admin pages that carry the template editor and the preview.

The editor (CKEditor 4.22, out of support, CVE-2024-24815) and the preview show content staff typed or
imported; the policy makes sure none of it can run script: no inline script, no ``eval``, nothing from
another origin. The rendered email itself is served from its own URL with :data:`RENDERED_EMAIL_POLICY`
and shown in an ``<iframe sandbox>`` without ``allow-scripts``.

What CKEditor 4.22 needs under such a policy (measured in Chromium): no ``'unsafe-eval'`` and no foreign
origin, but ``'unsafe-inline'`` scripts for its own UI — ``on*`` attributes calling
``CKEDITOR.tools.callFunction(n, ...)`` on toolbar buttons, combos, panels and the element path,
``href="javascript:..."`` links, the editing frame's ``<script id="cke_actscrpt">`` that reports the frame
ready, and each panel frame's ``<body onload>``. Blocked, the editor loads but never becomes ready. Rather than
allow inline script, ``ace_admin/static/ace_admin/preview/ckeditor_csp.js`` (loaded from this site) binds
exactly those calls as listeners and announces the editing frame itself: editing, the toolbar, panels and
dialogs then work with no violation reported. Only the file-upload frame of the Image/Link dialogs (a
``javascript:`` URL and an inline script) stays blocked: uploading from those dialogs is not available (no
upload URL is configured anyway). Styles need ``'unsafe-inline'`` (style attributes), which runs no code.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.core.files.storage import default_storage

#: The admin pages (editor, preview): scripts only from this site's static files. Inline *styles* stay
#: allowed: CKEditor and the admin set style attributes, and styles cannot run code.
ADMIN_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])

#: The rendered email in the preview iframe: no script at all, a unique origin (``sandbox``), images from
#: anywhere an email may load them, nothing else.
RENDERED_EMAIL_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'none'",
    "img-src https: http: data:",
    "style-src 'unsafe-inline' https:",
    "font-src https: data:",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
    "sandbox allow-popups allow-popups-to-escape-sandbox",
])

#: Admin URL names served under :data:`ADMIN_POLICY` (the pages where templates are edited or previewed).
PROTECTED_URL_NAMES = frozenset({
    "ace_admin_template_add", "ace_admin_template_change", "ace_admin_template_revision",
    "ace_admin_messagetype_add", "ace_admin_messagetype_change",
    "ace_admin_messagetype_preview", "ace_admin_template_preview",
    "ace_admin_snippet_add", "ace_admin_snippet_change",
    "ace_admin_imageasset_add", "ace_admin_imageasset_change", "ace_admin_imageasset_changelist",
})


def media_origin() -> str:
    """The origin uploaded images are served from when it is not this site (a django-storages bucket), else ""."""
    try:
        url = default_storage.url("ace/assets/x.png")
    except Exception:  # noqa: BLE001 — a storage that cannot make URLs here: images only from this site
        return ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def admin_policy() -> str:
    """:data:`ADMIN_POLICY`, its ``img-src`` extended to the storage's origin when images are stored elsewhere."""
    origin = media_origin()
    if not origin:
        return ADMIN_POLICY
    return ADMIN_POLICY.replace("img-src 'self' data: blob:", f"img-src 'self' {origin} data: blob:")


def with_policy(policy: str):
    """View decorator: serve the response with ``policy`` (the middleware leaves it as it is)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response["Content-Security-Policy"] = policy
            return response

        return wrapped

    return decorator


def _protected(match) -> bool:
    # The admin's landing page carries the reports' dashboard (charts as SVG, no script): strict too.
    return match.url_name in PROTECTED_URL_NAMES or (match.app_name == "admin" and match.url_name == "index")


class ContentSecurityPolicyMiddleware:
    """Adds :func:`admin_policy` to the responses of :data:`PROTECTED_URL_NAMES` that set none themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and _protected(match) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = admin_policy()
        return response
