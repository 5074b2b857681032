"""The admin side of drafts and publishing: edits saved as drafts, the review page (rendered before/after side by
side, diff, publish / schedule / roll back / restore as draft), the publish actions and the read-only audit trail.

Every change of what is sent goes through ``ace_admin.content.publishing``, which checks the rules server-side.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ace.channel import ChannelType
from ace_admin.content import publishing
from ace_admin.models import MessageType, PublishingEvent, Template, TemplateRevision
from ace_admin.preview import views as preview_views
from ace_admin.preview.render import PreviewRequest, render_preview
from ace_admin.readonly_admin import ReadOnlyAdminMixin

PUBLISH_MARK = "_publish"  # the name of the "Save and publish" button


def _report(model_admin, request, template, outcome) -> None:
    model_admin.message_user(request, f"{template}: version {outcome.revision} is published (sent from now on).",
                             messages.SUCCESS)
    for warning in outcome.warnings:
        model_admin.message_user(request, f"{template}: {warning}", messages.WARNING)


def publish_and_report(model_admin, request, template, **kwargs) -> bool:
    """Publish through the service; the outcome or the refusal becomes a message on the page."""
    try:
        outcome = publishing.publish(template, request.user, **kwargs)
    except PermissionDenied as denied:
        model_admin.message_user(request, str(denied), messages.ERROR)
        return False
    except publishing.PublishRefused as refused:
        model_admin.message_user(request, f"{template} was not published: {refused}", messages.ERROR)
        return False
    _report(model_admin, request, template, outcome)
    return True


def restore_version(model_admin, request, template, revision) -> None:
    """A publisher's restore is a rollback (published at once, through the publish path); anyone else's becomes
    the draft."""
    if revision.content == template.content and template.published:
        model_admin.message_user(request, f"Version {revision.number} is the published content already.",
                                 messages.INFO)
        return
    if publishing.can_publish(request.user):
        if publish_and_report(model_admin, request, template, revision=revision.number):
            model_admin.log_change(request, template, f"Rolled back to version {revision.number}.")
        return
    template.content = revision.content
    try:
        publishing.save_draft(template, revision.content, request.user)
    except ValidationError as error:
        model_admin.message_user(request, f"Version {revision.number} cannot be restored: "
                                          f"{'; '.join(error.messages)}", messages.ERROR)
        return
    model_admin.message_user(request, f"Version {revision.number} is now the draft; a manager publishes it.",
                             messages.SUCCESS)


class DraftInlineMixin:
    """For the message type page's inline templates: forms show the draft, saves go to the draft."""

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "published"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class DraftFormSet(formset):
            def get_queryset(self):
                if not hasattr(self, "_drafts"):
                    self._drafts = list(super().get_queryset())
                    for template in self._drafts:
                        template.content = template.working_content
                return self._drafts

        return DraftFormSet


def save_inline_drafts(model_admin, request, instances) -> None:
    """Save the message type page's edited templates as drafts; "Save and publish" publishes them too."""
    saved = []
    for template in instances:
        publishing.save_draft(template, template.content, request.user)
        saved.append(template)
    if PUBLISH_MARK in request.POST:
        for template in saved:
            publish_and_report(model_admin, request, template)
    elif saved:
        model_admin.message_user(request, f"{len(saved)} template(s) saved as drafts: not sent until published.",
                                 messages.INFO)


class EditsDraftMixin:
    """For the admins of templates (and snippets, which are templates): the form shows and edits the draft."""

    def get_object(self, request, object_id, from_field=None):
        template = super().get_object(request, object_id, from_field)
        if template is not None:
            template.content = template.working_content  # the form edits the draft
        return template


class PublishingAdminMixin(EditsDraftMixin):
    """For TemplateAdmin: the form edits the draft; publish, schedule and roll back go through the service."""

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "published", "publishing_status"]

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed() and PUBLISH_MARK not in request.POST:
            return  # an untouched save writes nothing and records no version
        changed = publishing.save_draft(obj, obj.content, request.user)
        if PUBLISH_MARK in request.POST:
            publish_and_report(self, request, obj)
        elif changed:
            self.message_user(request, "Saved as a draft: not sent until a manager publishes it.", messages.INFO)

    def response_change(self, request, obj):
        if PUBLISH_MARK in request.POST:  # "Save and publish" comes back to the page, which shows the outcome
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if PUBLISH_MARK in request.POST:
            return HttpResponseRedirect(reverse("admin:ace_admin_template_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="publishing")
    def publishing_status(self, obj):
        if obj is None or obj.pk is None:
            return "A new template is a draft until a manager publishes it."
        lines = []
        if obj.published:
            lines.append(format_html("Published: version {} is sent.", obj.content_revision or "?"))
        else:
            lines.append("Not published: never sent (the file on disk or another version is used).")
        stored = Template.objects.filter(pk=obj.pk).values_list("draft_content", "draft_author__username",
                                                              "publish_at", "publish_revision").first()
        draft, author, publish_at, publish_revision = stored or (None, None, None, None)
        review = obj.revisions.order_by("-number").values_list("number", flat=True).first()
        if draft is not None or not obj.published:
            lines.append(format_html('Draft{}: <a href="{}">review and publish</a>',
                                     f" by {author}" if author else "",
                                     reverse("admin:ace_admin_template_revision", args=[obj.pk, review or 1])))
        if publish_at is not None:
            lines.append(format_html('<span class="ace-scheduled">Scheduled: version {} will be published at {}.'
                                     '</span>', publish_revision, timezone.localtime(publish_at)))
        audit = reverse("admin:ace_admin_publishingevent_changelist") + f"?template__id__exact={obj.pk}"
        lines.append(format_html('<a href="{}">Publishing audit trail</a>', audit))
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    # -- actions ----------------------------------------------------------------------------------------------

    def publish_selected(self, request, queryset):
        for template in queryset:
            publish_and_report(self, request, template)

    def unpublish_selected(self, request, queryset):
        for template in queryset:
            publishing.unpublish(template, request.user)
        self.message_user(request, f"{queryset.count()} template(s) unpublished.", messages.SUCCESS)

    def archive(self, request, queryset):
        try:
            count = publishing.archive(queryset, request.user)
        except PermissionDenied as denied:
            self.message_user(request, str(denied), messages.ERROR)
            return
        self.message_user(request, f"{count} templates archived: kept with their history, no longer used.",
                          messages.SUCCESS)

    archive.short_description = "Archive the selected items (kept with their history, no longer used)"

    def after_archive(self, request, objects, archived):
        if not archived:
            for template in objects:
                publishing.record(PublishingEvent.UNARCHIVE, request.user, template=template)

    # -- the review page ----------------------------------------------------------------------------------

    def get_urls(self):
        return [path("<path:object_id>/revisions/<int:number>/", self.admin_site.admin_view(self.revision_view),
                     name="ace_admin_template_revision"), *super().get_urls()]

    def revision_view(self, request, object_id, number):
        """One version next to the published one: both rendered (sandboxed frames), the source diff, and
        publish / schedule / roll back (managers) or restore as draft (editors)."""
        template = get_object_or_404(Template.objects.select_related("message_type", "site"), pk=object_id)
        if not (self.has_view_permission(request, template)
                and request.user.has_perm("ace_admin.view_templaterevision")):
            raise PermissionDenied
        revision = get_object_or_404(TemplateRevision, template=template, number=number)
        if request.method == "POST":
            return self._revision_post(request, template, revision)
        published = template.content if template.published else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{template.name}: version {number}",
            "template_obj": template,
            "revision": revision,
            "is_draft": template.draft_content == revision.content or (
                not template.published and template.content == revision.content),
            "is_published": template.published and template.content_revision == revision.number,
            "diff": difflib.HtmlDiff(tabsize=2, wrapcolumn=90).make_table(
                (published or "").splitlines(), revision.content.splitlines(), fromdesc="published",
                todesc=f"version {number}", context=True, numlines=3),
            "identical": published == revision.content,
            "rendered": self._side_by_side(request, template, published, revision.content),
            "can_restore": self.has_change_permission(request, template),
            "can_publish": publishing.can_publish(request.user),
            "scheduled": template.publish_at,
            "time_zone": timezone.get_current_timezone_name(),
            "events": template.publishing_events.select_related("user")[:20],
        }
        return TemplateResponse(request, "admin/ace_admin/template/revision.html", context)

    def _revision_post(self, request, template, revision):
        back = HttpResponseRedirect(request.path)
        action = request.POST.get("action", "restore")
        if action in ("publish", "schedule", "unschedule") and not publishing.can_publish(request.user):
            raise PermissionDenied("Only managers can publish.")
        if action == "publish":
            pending = template.has_draft or not template.published
            is_draft = pending and revision.content == template.working_content
            publish_and_report(self, request, template, revision=None if is_draft else revision.number)
        elif action == "schedule":
            when = _parse_time(request.POST.get("when", ""))
            if when is None:
                self.message_user(request, "Give the date and time to publish at.", messages.ERROR)
                return back
            try:
                publishing.schedule(template, request.user, when, revision=revision.number)
            except publishing.PublishRefused as refused:
                self.message_user(request, f"Not scheduled: {refused}", messages.ERROR)
                return back
            self.message_user(request, f"Version {revision.number} will be published at "
                                       f"{timezone.localtime(when):%Y-%m-%d %H:%M %Z}.", messages.SUCCESS)
        elif action == "unschedule":
            publishing.unschedule(template, request.user)
            self.message_user(request, "The scheduled publish is cancelled.", messages.SUCCESS)
        else:
            if not self.has_change_permission(request, template):
                raise PermissionDenied
            restore_version(self, request, template, revision)
            return HttpResponseRedirect(reverse("admin:ace_admin_template_change", args=[template.pk]))
        return back

    def _side_by_side(self, request, template, before: str | None, after: str) -> list[dict]:
        """The email rendered with the published text and with this version, through the preview's render path
        (sandboxed, sample data); each as a frame URL or an error."""
        message_type = template.message_type or MessageType.objects.order_by("app_label", "name").first()
        if message_type is None:
            return []
        channel_type = ChannelType(template.channel_type) if template.channel_type else ChannelType.EMAIL
        shown = []
        for label, text in (("published", before), ("this version", after)):
            overlay = {template.name: text} if text is not None else {}
            preview = render_preview(PreviewRequest(
                message_type=message_type, context=dict(message_type.sample_context or {}),
                language=template.language, site=template.site, channel_type=channel_type, overlay=overlay),
                request.user.email)
            subject = preview.part("subject") or preview.part("title")
            item = {"label": label, "subject": subject.value if subject else "",
                    "error": preview.error.message if preview.error else "", "frame_url": "", "text": ""}
            if before is None and label == "published":
                item["note"] = "Not published: sends use the file on disk or another language or site."
            if preview.html_document and preview.error is None:
                item["frame_url"] = preview_views.store_frame(request, message_type, preview.html_document)
            else:
                body = preview.part("body")
                item["text"] = body.value if body and body.value else ""
            shown.append(item)
        return shown


def _parse_time(value: str):
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            naive = datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
        return timezone.make_aware(naive) if timezone.is_naive(naive) else naive
    return None


@admin.register(PublishingEvent)
class PublishingEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail of publishing, read-only: nobody adds, changes or deletes an entry here."""

    list_display = ["at", "action", "subject", "revision", "previous_revision", "username", "note_short"]
    list_filter = ["action", "at", "template", "message_type"]
    search_fields = ["subject", "username", "note"]
    list_select_related = ["template", "user"]
    readonly_fields = ["at", "action", "template", "message_type", "subject", "revision", "previous_revision",
                       "user", "username", "note"]
    fields = readonly_fields

    @admin.display(description="note")
    def note_short(self, obj):
        return obj.note if len(obj.note) <= 100 else obj.note[:99] + "…"
