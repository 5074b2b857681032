"""Public pages reached from an email: one-click unsubscribe (RFC 8058) and the preference page. No login:
the signed token in the link is the proof; a forged or altered token gets a 400 and changes nothing."""

from __future__ import annotations

import contextlib
import functools

from django.conf import settings
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ace_admin.privacy import links

#: The pages have no script, no image and no third-party resource; they post only to themselves.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'")


def _locked_down(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.setdefault("Content-Security-Policy", PAGE_POLICY)
        # The link itself is the key to these pages: never sent to another site (same-origin keeps the
        # Origin header that CSRF protection checks; "no-referrer" would make it "null").
        response.setdefault("Referrer-Policy", "same-origin")
        return response

    return wrapper


def _language(subscriber):
    """The language of the email the link came from, when this site offers it; else the browser's."""
    code = (subscriber.language or "").lower()
    offered = {language.lower() for language, _name in settings.LANGUAGES}
    if code and (code in offered or code.split("-")[0] in offered):
        return translation.override(code if code in offered else code.split("-")[0])
    return contextlib.nullcontext()


def _invalid(request):
    return render(request, "ace_admin/unsubscribe/invalid.html", status=400)


def category_label(name: str) -> str:
    """'course-updates' -> 'Course updates': categories are slugs; people read words."""
    return name.replace("-", " ").replace("_", " ").strip().capitalize()


@csrf_exempt  # mailbox providers POST "List-Unsubscribe=One-Click" without any cookie or form token
@_locked_down
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation button (link scanners follow GET links: they must not unsubscribe anyone);
    POST records the opt-out and answers 200, no redirect (RFC 8058)."""
    try:
        subscriber = links.read_token(token, links.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return _invalid(request)
    context = {
        "what": category_label(subscriber.category) if subscriber.category else "",
        "preferences_url": reverse("ace_admin:preferences",
                                   kwargs={"token": links.make_token(subscriber, links.PREFERENCES_SALT)}),
    }
    with _language(subscriber):
        if request.method == "POST":
            links.opt_out(subscriber)
            return render(request, "ace_admin/unsubscribe/done.html", context)
        return render(request, "ace_admin/unsubscribe/confirm.html", context)


@_locked_down
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token: str):
    """Each category on or off, and "unsubscribe from all marketing" in one click; works without JavaScript."""
    try:
        subscriber = links.read_token(token, links.PREFERENCES_SALT)
    except signing.BadSignature:
        return _invalid(request)
    with _language(subscriber):
        if request.method == "POST":
            everything = request.POST.get("action") == "unsubscribe_all"
            shown_type = request.POST.get("message_type_shown") == "1"
            links.save_preferences(subscriber, set(request.POST.getlist("category")), everything_off=everything,
                                   message_type_on=(request.POST.get("message_type") == "1") if shown_type else None)
            # Post/redirect/get: reloading the page does not post the form again.
            return HttpResponseRedirect(f"{request.path}?saved={'all' if everything else '1'}")
        current = links.preferences_of(subscriber)
        rows = [{"name": name, "label": category_label(name), "on": on, "id": f"category-{index}"}
                for index, (name, on) in enumerate(current.categories.items(), start=1)]
        return render(request, "ace_admin/unsubscribe/preferences.html", {
            "categories": rows, "all_off": current.all_off, "saved": request.GET.get("saved", ""),
            "message_type": current.message_type,
            "email": subscriber.email,
        })
