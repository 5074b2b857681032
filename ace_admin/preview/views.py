"""Admin views of the preview: the preview page (pickers, sample data, unsaved edits, test send) and the rendered
email frame, served from its own URL under a policy that runs no script."""

from __future__ import annotations

import json
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin

from ace.channel import ChannelType, channels
from ace_admin.content import publishing
from ace_admin.content.loader import language_candidates
from ace_admin.content.widgets import posted_source
from ace_admin.models import MessageType, Template, normalize_language
from ace_admin.preview import test_sends
from ace_admin.preview.csp import RENDERED_EMAIL_POLICY
from ace_admin.preview.render import PreviewRequest, parse_context, render_preview, send_test, split_addresses

FRAME_TTL_SECONDS = 30 * 60
_FRAME_KEY = "ace_admin:preview-frame:{}"
EDITOR_MARK = "_ace_preview"  # the name of the "Preview" button on the change forms
DRAFT, PUBLISHED = "draft", "published"


class PreviewForm(forms.Form):
    """The pickers and sample data of the preview page."""

    language = forms.ChoiceField(required=False, label="Language",
                                 help_text="Templates for this language are used, else language-neutral ones.")
    site = forms.ModelChoiceField(Site.objects.order_by("domain"), required=False, label="Site",
                                  empty_label="(no particular site)",
                                  help_text="Templates saved for this site are used before the all-sites ones.")
    version = forms.ChoiceField(
        choices=[(DRAFT, "draft (unpublished changes)"), (PUBLISHED, "published (what is sent)")], required=False,
        label="Version", help_text="Drafts are never sent; test sends use the version shown here.")
    channel_type = forms.ChoiceField(choices=[(ct.value, ct.value) for ct in ChannelType], label="Kind",
                                     help_text="Email or push notification.")
    channel_name = forms.ChoiceField(required=False, label="Delivery service",
                                     help_text="Blank: the one channel routing picks for a real send.")
    context = forms.CharField(label="Sample data (JSON)", required=False,
                              widget=forms.Textarea(attrs={"rows": 12, "class": "vLargeTextField ace-code",
                                                           "spellcheck": "false"}),
                              help_text="The values the templates are rendered with. Edit to try other cases; "
                                        "this is not saved.")
    overlay = forms.CharField(required=False, widget=forms.HiddenInput)
    recipients = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="Send a test to",
                                   help_text="Your own address, or the seed addresses set on the message type.")

    def __init__(self, *args, message_type, user, **kwargs):
        super().__init__(*args, **kwargs)
        languages = dict(settings.LANGUAGES)
        for code in message_type.templates.values_list("language", flat=True).distinct():
            if code:
                languages.setdefault(code, code)
        self.fields["language"].choices = [("", "(platform default)")] + sorted(languages.items())
        self.fields["channel_name"].choices = [("", "(as routing picks)")] + [
            (channel.name, f"{channel.name} ({channel.channel_type.value})") for channel in channels()]
        choices = []
        if user.email:
            choices.append(("me", f"me ({user.email})"))
        seeds = split_addresses(message_type.seed_addresses)
        if seeds:
            choices.append(("seeds", f"the seed addresses ({', '.join(seeds)})"))
        self.fields["recipients"].choices = choices

    def clean_context(self):
        try:
            return parse_context(self.cleaned_data.get("context", ""))
        except ValueError as error:
            raise forms.ValidationError(str(error))

    def clean_overlay(self):
        text = self.cleaned_data.get("overlay") or ""
        if not text:
            return []
        problem = forms.ValidationError("The unsaved edits could not be read; open the preview from the editor again.")
        try:
            rows = json.loads(text)
        except json.JSONDecodeError:
            raise problem
        keys = {"name", "language", "site", "content"}
        if not isinstance(rows, list) or not all(isinstance(row, dict) and set(row) == keys for row in rows):
            raise problem
        return rows


# --- reading what a change form posted ---------------------------------------------------------------------------


def _site_of(value):
    if value in (None, ""):
        return None
    try:
        return Site.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def edits_from_template_form(post) -> list[dict]:
    """The template change form's content, standing in for the saved one (even while it is a draft)."""
    name = (post.get("name") or "").strip()
    if not name:
        return []
    site = _site_of(post.get("site"))
    return [{"name": name, "language": normalize_language(post.get("language", "")),
             "site": site.pk if site else None, "content": posted_source(post, "content")}]


def edits_from_message_type_form(post) -> list[dict]:
    """The message type form's inline templates (unsaved edits included): what the form holds is the draft."""
    rows = []
    total = int(post.get("templates-TOTAL_FORMS") or 0) if (post.get("templates-TOTAL_FORMS") or "").isdigit() else 0
    for index in range(min(total, 1000)):
        prefix = f"templates-{index}-"
        name = (post.get(prefix + "name") or "").strip()
        if not name or post.get(prefix + "DELETE"):
            continue
        site = _site_of(post.get(prefix + "site"))
        rows.append({"name": name, "language": normalize_language(post.get(prefix + "language", "")),
                     "site": site.pk if site else None, "content": posted_source(post, prefix + "content")})
    return rows


def choose_edits(rows: list[dict], language: str, site) -> dict[str, str]:
    """Name -> content of the edited rows a send in ``language`` for ``site`` would use: the best match per
    name, in the database loader's order (exact language, base language, neutral; the site before all sites)."""
    candidates = language_candidates(language)
    chosen: dict[str, tuple[int, str]] = {}
    for row in rows:
        row_language = normalize_language(row.get("language") or "")
        if row_language not in candidates:
            continue
        if row.get("site") is not None and (site is None or row["site"] != site.pk):
            continue
        rank = candidates.index(row_language) * 2 + (0 if row.get("site") is not None else 1)
        if row["name"] not in chosen or rank < chosen[row["name"]][0]:
            chosen[row["name"]] = (rank, row.get("content") or "")
    return {name: content for name, (_, content) in chosen.items()}


# --- views -------------------------------------------------------------------------------------------------------


def can_send_test(user) -> bool:
    return user.has_perm("ace_admin.change_messagetype") or user.has_perm("ace_admin.change_template")


def preview_view(model_admin, request, message_type, *, template=None):
    """The preview page of ``message_type``; ``template`` when opened from that template's editor."""
    if not request.user.has_perm("ace_admin.view_messagetype"):
        raise PermissionDenied
    initial = {"context": json.dumps(message_type.sample_context or {}, indent=2, ensure_ascii=False),
               "language": template.language if template is not None else settings.LANGUAGE_CODE,
               "site": template.site_id if template is not None else None,
               "channel_type": (template.channel_type if template is not None and template.channel_type
                                else ChannelType.EMAIL.value),
               "recipients": "me" if request.user.email else "seeds", "version": DRAFT}
    data = None
    if request.method == "POST" and request.POST.get(EDITOR_MARK):
        data = _editor_post(request.POST, initial, template)
    elif request.method == "POST":
        data = request.POST
    form = PreviewForm(data, initial=initial, message_type=message_type, user=request.user)
    preview = test_results = None
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        preview_request = PreviewRequest(
            message_type=message_type, context=form.cleaned_data["context"], language=form.cleaned_data["language"],
            site=form.cleaned_data["site"], channel_type=ChannelType(form.cleaned_data["channel_type"]),
            channel_name=form.cleaned_data["channel_name"],
            overlay=choose_edits(_with_drafts(cleaned["overlay"], cleaned["version"], message_type),
                                 cleaned["language"], cleaned["site"]))
        if request.POST.get("send_test"):
            test_results = _send_test(request, form, preview_request, message_type)
        preview = render_preview(preview_request, request.user.email)
    elif data is None:
        preview_request = PreviewRequest(
            message_type=message_type, context=dict(message_type.sample_context or {}), language=initial["language"],
            site=_site_of(initial["site"]), channel_type=ChannelType(initial["channel_type"]))
        preview_request.overlay = choose_edits(_with_drafts([], DRAFT, message_type), preview_request.language,
                                               preview_request.site)
        preview = render_preview(preview_request, request.user.email)
    frame_url = ""
    if preview is not None and preview.html_document and preview.error is None:
        frame_url = store_frame(request, message_type, preview.html_document)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": MessageType._meta,
        "original": message_type,
        "title": f"Preview: {message_type}",
        "message_type": message_type,
        "template_obj": template,
        "form": form,
        "preview": preview,
        "frame_url": frame_url,
        "test_results": test_results,
        "can_send_test": can_send_test(request.user) and bool(form.fields["recipients"].choices),
        "edited_names": sorted(preview_request.overlay) if preview is not None else [],
        # The preview needs the page's width; the sidebar's app list is also most of the page's render time.
        "is_nav_sidebar_enabled": False,
    }
    return TemplateResponse(request, "admin/ace_admin/preview/preview.html", context)


def _with_drafts(rows: list[dict], version: str, message_type) -> list[dict]:
    """The editor's unsaved rows, then (unless the published version was asked for) the saved drafts; the first row
    of a name and language wins in ``choose_edits``."""
    if version == PUBLISHED:
        return rows
    return [*rows, *publishing.draft_rows(message_type)]


def _editor_post(post, initial: dict, template) -> dict:
    """The preview form's data from a change form's "Preview" button: the unsaved edits become the overlay."""
    data = {key: initial[key] for key in ("language", "channel_type", "context", "recipients", "version")}
    data["site"] = initial["site"] or ""
    if template is not None:
        rows = edits_from_template_form(post)
        if rows:
            data.update(language=rows[0]["language"], site=rows[0]["site"] or "")
    else:
        rows = edits_from_message_type_form(post)
        if post.get("sample_context") is not None:
            data["context"] = post["sample_context"]
    data["overlay"] = json.dumps(rows)
    return data


def _send_test(request, form, preview_request, message_type):
    if not can_send_test(request.user):
        raise PermissionDenied
    choice = form.cleaned_data.get("recipients")
    if choice == "me" and request.user.email:
        addresses = [request.user.email]
    elif choice == "seeds":
        addresses = split_addresses(message_type.seed_addresses)
    else:
        messages.error(request, "Choose who receives the test: your account has no email address and this "
                                "message type has no seed addresses.")
        return None
    chosen = test_sends.plan(request.user, addresses)  # at most 10, none suppressed/erased, rate-limited
    for address, reason in chosen.skipped:
        messages.warning(request, f"Test not sent to {address}: {reason}.")
    if chosen.refused:
        messages.error(request, chosen.refused)
        return None
    results = send_test(preview_request, chosen.addresses)
    for result in results:
        if result.sent:
            messages.success(request, f"Test sent to {result.address} over {result.channel_name}.")
        else:
            messages.error(request, f"Test to {result.address} not sent ({result.status}): {result.detail}")
    return results


def store_frame(request, message_type, html: str) -> str:
    """Keep ``html`` for the sandboxed frame view; returns the frame's URL (for this user, 30 minutes)."""
    token = secrets.token_urlsafe(18)
    cache.set(_FRAME_KEY.format(token), {"user": request.user.pk, "html": html}, FRAME_TTL_SECONDS)
    return reverse("admin:ace_admin_messagetype_preview_frame", args=[message_type.pk, token])


@xframe_options_sameorigin
def frame_view(model_admin, request, object_id, token):
    """The rendered HTML of one preview, for the sandboxed iframe: no script can run in it."""
    stored = cache.get(_FRAME_KEY.format(token))
    if not stored or stored["user"] != request.user.pk:
        raise Http404("This preview has expired; refresh the preview page.")
    response = HttpResponse(stored["html"], content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = RENDERED_EMAIL_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def message_type_preview(model_admin, request, object_id):
    message_type = get_object_or_404(MessageType, pk=object_id)
    return preview_view(model_admin, request, message_type)


def template_preview(model_admin, request, object_id):
    """Preview from a template: its message type, or for a shared layout the one picked (first by default)."""
    template = get_object_or_404(Template, pk=object_id)
    message_type = template.message_type
    if message_type is None:
        chosen = request.POST.get("message_type") or request.GET.get("message_type")
        queryset = MessageType.objects.order_by("app_label", "name")
        message_type = (queryset.filter(pk=chosen).first() if chosen and chosen.isdigit() else None) or queryset.first()
        if message_type is None:
            raise Http404("There is no message type to preview this layout with.")
    return preview_view(model_admin, request, message_type, template=template)
