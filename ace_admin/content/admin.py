"""Admin for content: message types with their templates, templates with their history (diff, restore)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin

from ace_admin.archive import ArchiveAdminMixin
from ace_admin.content import copying, discovery, publishing, resources
from ace_admin.content.forms import TemplateForm, TemplateInlineFormSet
from ace_admin.content.publishing_admin import (
    DraftInlineMixin,
    PublishingAdminMixin,
    restore_version,
    save_inline_drafts,
)
from ace_admin.content.widgets import CSS
from ace_admin.importing import SafeCSV, SafeImportExportMixin, SafeJSON, SafeYAML
from ace_admin.models import MessageType, PublishingEvent, Template, TemplateRevision
from ace_admin.preview import test_sends
from ace_admin.preview import views as preview_views
from ace_admin.toggles import enable_disable_actions

FORMATS = [SafeJSON, SafeYAML, SafeCSV]

#: What a message claims to be and where its tests go: managers only (``ace_admin.change_sending``).
SENDING_FIELDS = ["transactional", "from_address", "reply_to", "seed_addresses"]


def can_change_sending(request) -> bool:
    return request.user.has_perm("ace_admin.change_sending")


def can_publish(request) -> bool:
    return request.user.has_perm("ace_admin.publish_template")


class _RoleGuard:
    """Imports refuse what the importing user may not change in the forms either (``user_may``, passed by the
    admin): the sending fields without ``change_sending``; publishing without ``publish_template`` (new
    templates are imported unpublished, a change of an existing template's published flag or of a published
    template's content is refused)."""

    def __init__(self, *, user_may: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self._user_may = user_may or {}

    def _may(self, what: str) -> bool:
        return self._user_may.get(what, True)

    def _guard_templates(self, templates, errors: dict) -> None:
        if self._may("publish"):
            return
        for template in templates:
            if template.pk is None:
                template.published = False
                continue
            stored = Template.objects.filter(pk=template.pk).values_list("published", "content").first()
            if stored is not None and stored[0] != template.published:
                errors.setdefault("published", []).append(
                    f"{template.name}: only managers can publish or unpublish a template.")
            elif stored is not None and stored[0] and stored[1] != template.content:
                # An import writes the content that is sent: for a published template that is publishing.
                errors.setdefault("content", []).append(
                    f"{template.name} is published: only managers can change it by import (edit it in the "
                    "admin to make a draft).")

    def import_instance(self, instance, row, **kwargs):
        guarded = [] if self._may("change_sending") or not isinstance(instance, MessageType) else SENDING_FIELDS
        before = {name: getattr(instance, name) for name in guarded}
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in guarded:
            if getattr(instance, name) != before[name]:
                errors.setdefault(name, []).append(
                    "only managers can change the sender, reply-to, transactional flag and seed addresses.")
        if isinstance(instance, Template):
            self._guard_templates([instance], errors)
        else:
            self._guard_templates(getattr(instance, "_ace_templates", []), errors)
        if errors:
            raise ValidationError(errors)


# Same class names as the originals: import-export names the export form's fields after them.
class MessageTypeResource(_RoleGuard, resources.MessageTypeResource):
    class Meta(resources.MessageTypeResource.Meta):
        pass


class TemplateResource(_RoleGuard, resources.TemplateResource):
    class Meta(resources.TemplateResource.Meta):
        pass


class MessageTypeForm(forms.ModelForm):
    class Meta:
        model = MessageType
        fields = ["app_label", "name", "description", "category", "transactional", "enabled", "from_address",
                  "reply_to", "seed_addresses", "sample_context"]

    def clean_seed_addresses(self):
        value = self.cleaned_data.get("seed_addresses") or ""
        test_sends.validate_seed_addresses(preview_views.split_addresses(value))
        return value


class TemplateInline(DraftInlineMixin, admin.StackedInline):
    """A message type's database templates, grouped by channel and part (see the inline template)."""

    model = Template
    form = TemplateForm
    formset = TemplateInlineFormSet
    extra = 0
    fields = ["name", "language", "site", "published", "content"]
    template = "admin/ace_admin/messagetype/template_inline.html"
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site").order_by(
            "channel_type", "part", "language", "site__domain")


@admin.register(MessageType)
class MessageTypeAdmin(ArchiveAdminMixin, SafeImportExportMixin, ImportExportMixin, admin.ModelAdmin):
    resource_classes = [MessageTypeResource]
    form = MessageTypeForm
    formats = FORMATS
    inlines = [TemplateInline]
    list_display = ["__str__", "description_short", "category", "transactional", "enabled", "archived", "source",
                    "db_templates", "updated_at"]
    list_display_links = ["__str__"]
    list_filter = ["app_label", "category", "transactional", "enabled", "source", "templates__language",
                   "templates__channel_type"]
    search_fields = ["app_label", "name", "description", "category", "templates__name"]
    readonly_fields = ["source", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["app_label", "name", "description", "category", "transactional", "enabled", "archived"]}),
        ("Sending", {"fields": ["from_address", "reply_to", "seed_addresses"]}),
        ("Preview", {"fields": ["sample_context"], "classes": ["collapse"]}),
        ("History", {"fields": ["source", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    actions = ["enable", "disable", "copy"]
    # Extends admin/ace_admin/messagetype/change_form.html with the Preview link and button.
    change_form_template = "admin/ace_admin/preview/messagetype_change_form.html"

    class Media:
        css = {"all": [CSS]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_db_templates=Count("templates", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        # Read-only fields are not form fields: a crafted POST of them is ignored, not saved.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if can_change_sending(request) else [*readonly, *SENDING_FIELDS]

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user_may": {
            "change_sending": can_change_sending(request), "publish": can_publish(request)}}

    @admin.display(description="description")
    def description_short(self, obj):
        text = obj.description or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="templates in database", ordering="_db_templates")
    def db_templates(self, obj):
        return obj._db_templates

    enable, disable = enable_disable_actions("message type", "they will not be sent")

    @admin.action(description="Copy with their templates (e.g. for an A/B variant)", permissions=["add"])
    def copy(self, request, queryset):
        for message_type in queryset:
            try:
                made = copying.copy_message_type(message_type, request.user)
            except ValidationError as error:
                self.message_user(request, f"{message_type} was not copied: {' '.join(error.messages)}",
                                  messages.ERROR)
                continue
            url = reverse("admin:ace_admin_messagetype_change", args=[made.pk])
            how = ("its templates are published as they are" if can_publish(request) else
                   "its templates are drafts until a manager publishes them")
            self.message_user(request, format_html(
                'Copied {} as <a href="{}">{}</a> ({}). Change what the variant tests (e.g. the subject), then '
                'add it to a campaign as an A/B variant.', message_type, url, made, how), messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Template:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if obj.revisions.exists():
                # Its saved versions are history: archive (and unpublish) instead of deleting.
                try:
                    publishing.archive([obj], request.user)
                except PermissionDenied as denied:
                    self.message_user(request, f"{obj.name} was not archived: {denied}", messages.ERROR)
                    continue
                self.message_user(request, f"{obj.name} has saved versions: it was archived (unpublished), "
                                           "not deleted.", messages.INFO)
            else:
                obj.delete()
        for template in instances:
            template.message_type = form.instance
        save_inline_drafts(self, request, instances)  # drafts; "Save and publish" publishes them
        formset.save_m2m()

    def after_archive(self, request, objects, archived):
        action = PublishingEvent.ARCHIVE if archived else PublishingEvent.UNARCHIVE
        publishing.record_message_types(action, objects, request.user)

    def get_urls(self):
        urls = [
            path("<path:object_id>/override/", self.admin_site.admin_view(self.override_view),
                 name="ace_admin_messagetype_override"),
            path("<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                 name="ace_admin_messagetype_preview"),
            path("<path:object_id>/preview/frame/<str:token>/", self.admin_site.admin_view(self.frame_view),
                 name="ace_admin_messagetype_preview_frame"),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["file_templates"] = self.file_templates_context(obj)
            extra_context["can_override"] = request.user.has_perm("ace_admin.add_template")
            extra_context["preview_url"] = reverse("admin:ace_admin_messagetype_preview", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def file_templates_context(obj) -> list[dict]:
        """Files on disk for this message type, with the DB templates that override them."""
        overrides = {}
        for template in obj.templates.select_related("site"):
            overrides.setdefault(template.name, []).append(template)
        rows = []
        for item in discovery.file_templates_for(obj.app_label, obj.name):
            try:
                content = item.read()
            except OSError as error:
                content = f"(cannot read {item.path}: {error})"
            rows.append({"file": item, "content": content, "overrides": overrides.get(item.name, [])})
        return rows

    def preview_view(self, request, object_id):
        return preview_views.message_type_preview(self, request, object_id)

    def frame_view(self, request, object_id, token):
        return preview_views.frame_view(self, request, object_id, token)

    def override_view(self, request, object_id):
        """"Override in database": a DB template prefilled with the file's content, then its edit page."""
        message_type = get_object_or_404(MessageType, pk=object_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:ace_admin_messagetype_change", args=[message_type.pk]))
        if not request.user.has_perm("ace_admin.add_template"):
            raise PermissionDenied
        name = request.POST.get("name", "")
        language = request.POST.get("language", "")
        item = discovery.file_template(name)
        if item is None or (item.app_label, item.message_name) != (message_type.app_label, message_type.name):
            self.message_user(request, f"No template file {name!r} belongs to {message_type}.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:ace_admin_messagetype_change", args=[message_type.pk]))
        existing = Template.objects.filter(name=name, language=language, site__isnull=True).first()
        if existing is not None:
            self.message_user(request, "This template is already overridden in the database.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:ace_admin_template_change", args=[existing.pk]))
        # A draft (unpublished) until a manager publishes it: the file on disk is still what is sent.
        template = Template(name=name, language=language, message_type=message_type, content=item.read(),
                            published=False)
        try:
            template.save(author=request.user, comment=f"copied from {item.path.name} on disk")
        except ValidationError as error:
            self.message_user(request, f"The file cannot be copied: {'; '.join(error.messages)}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:ace_admin_messagetype_change", args=[message_type.pk]))
        self.log_addition(request, template, [{"added": {}}])
        self.message_user(request, f"{name} is now edited in the database, as a draft: the file on disk is sent until "
                                   "a manager publishes it.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:ace_admin_template_change", args=[template.pk]))


class RevisionInline(admin.TabularInline):
    """Read-only history of a template, newest first, each with a link to its diff."""

    model = TemplateRevision
    extra = 0
    can_delete = False
    fields = ["number", "created_at", "author", "comment", "compare"]
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name_plural = "history (every saved version)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("ace_admin.view_templaterevision") or super().has_view_permission(request, obj)

    @admin.display(description="")
    def compare(self, revision):
        url = reverse("admin:ace_admin_template_revision", args=[revision.template_id, revision.number])
        return format_html('<a href="{}">compare with current / restore</a>', url)


@admin.register(Template)
class TemplateAdmin(PublishingAdminMixin, ArchiveAdminMixin, SafeImportExportMixin, ImportExportMixin,
                    admin.ModelAdmin):
    resource_classes = [TemplateResource]
    formats = FORMATS
    form = TemplateForm
    inlines = [RevisionInline]
    list_display = ["name", "message_type", "channel_type", "part", "language_display", "site", "published",
                    "archived", "updated_at", "updated_by"]
    archive_updates = {"archived": True, "published": False}
    list_filter = ["message_type__app_label", "message_type__category", "language", "channel_type", "part",
                   "published", "site", "message_type"]
    search_fields = ["name", "content", "message_type__name", "message_type__app_label"]
    list_select_related = ["message_type", "site", "updated_by"]
    readonly_fields = ["message_type", "channel_type", "part", "file_on_disk", "updated_by", "created_at",
                       "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "language", "site", "published", "publishing_status", "content"]}),
        ("Filled in from the name", {"fields": ["message_type", "channel_type", "part"]}),
        ("The file this template replaces", {"fields": ["file_on_disk"], "classes": ["collapse"]}),
        ("History", {"fields": ["updated_by", "created_at", "updated_at"]}),
    ]
    actions = ["publish", "unpublish"]
    change_form_template = "admin/ace_admin/preview/template_change_form.html"

    class Media:
        css = {"all": [CSS]}

    @admin.display(description="file on disk")
    def file_on_disk(self, obj):
        item = discovery.file_template(obj.name) if obj.name else None
        if item is None:
            return "No file on disk: this template exists only in the database."
        try:
            content = item.read()
        except OSError as error:
            return f"The file {item.path} cannot be read: {error}"
        return format_html('<pre class="ace-code">{}</pre>', content)

    @admin.display(description="language", ordering="language")
    def language_display(self, obj):
        return obj.language or "any"

    # Bulk updates go through the model's StampingQuerySet.update(), which bumps the shared stamp.
    # Through the publishing service: its rules, the audit trail, and the stamp every process reloads on.
    @admin.action(description="Publish the selected templates (their drafts)", permissions=["publish"])
    def publish(self, request, queryset):
        self.publish_selected(request, queryset)

    @admin.action(description="Unpublish the selected templates (files on disk are used instead)",
                  permissions=["publish"])
    def unpublish(self, request, queryset):
        self.unpublish_selected(request, queryset)

    def has_publish_permission(self, request):
        return can_publish(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user_may": {
            "change_sending": can_change_sending(request), "publish": can_publish(request)}}

    def get_urls(self):
        urls = [
            path("<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                 name="ace_admin_template_preview"),
        ]
        return urls + super().get_urls()

    def preview_view(self, request, object_id):
        return preview_views.template_preview(self, request, object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "preview_url": reverse("admin:ace_admin_template_preview", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(TemplateRevision)
class TemplateRevisionAdmin(admin.ModelAdmin):
    """Every saved version of every template, read-only."""

    list_display = ["template", "number", "created_at", "author", "comment", "compare"]
    list_filter = ["template__message_type__app_label", "template__language", "template__channel_type",
                   "created_at"]
    search_fields = ["template__name", "comment", "content"]
    list_select_related = ["template", "author"]
    readonly_fields = ["template", "number", "content", "author", "created_at", "comment"]
    actions = ["restore"]

    def has_add_permission(self, request):
        return False

    def has_restore_permission(self, request):
        return request.user.has_perm("ace_admin.change_template")

    @admin.action(description="Restore the selected version (managers: published at once; editors: as the draft)",
                  permissions=["restore"])
    def restore(self, request, queryset):
        revisions = list(queryset.select_related("template")[:2])
        if len(revisions) != 1:
            self.message_user(request, "Select exactly one version to restore.", messages.WARNING)
            return None
        [revision] = revisions
        restore_version(self, request, revision.template, revision)
        return None

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def compare(self, revision):
        url = reverse("admin:ace_admin_template_revision", args=[revision.template_id, revision.number])
        return format_html('<a href="{}">compare / restore</a>', url)

