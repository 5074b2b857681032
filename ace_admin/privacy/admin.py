"""Admin for privacy: suppressed addresses (search, export, lift), opt-out counts per category, and erasure
of a person's data (a form and an action). Imported by ``ace_admin.admin`` after its own ModelAdmins."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin

from ace_admin.content.resources import OptOutResource
from ace_admin.events.admin import evidence_link
from ace_admin.importing import SafeCSV, SafeImportExportMixin
from ace_admin.models import OptOut, Suppression, identity_hash
from ace_admin.privacy import suppression
from ace_admin.privacy.erasure import erase_recipient
from ace_admin.privacy.masking import (
    MaskedAddressesMixin,
    MaskingResourceMixin,
    add_masked_displays,
    mask_address,
    mask_text,
)


class SuppressionResource(MaskingResourceMixin, resources.ModelResource):
    """Export of suppressed addresses (erased people appear with their fingerprint only)."""

    class Meta:
        model = Suppression
        fields = ("id", "email", "address_hash", "user_id_hash", "reason", "details", "source", "created_at",
                  "lifted_at")
        export_order = fields


class InForceFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", "In force"), ("no", "Lifted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


class EraseForm(forms.Form):
    identifier = forms.CharField(
        label="Email address or user id", max_length=254,
        help_text="Everything ACE keeps about this person is erased; only a fingerprint remains so that no later "
                  "import or audience subscribes them again. This cannot be undone.")
    confirm = forms.BooleanField(label="I understand that this cannot be undone", required=True)


def _can_erase(request) -> bool:
    """Privacy officers (and superusers): managers cannot erase people."""
    return request.user.has_perm("ace_admin.erase_recipient")


def _erase_people(modeladmin, request, identifiers) -> None:
    if not _can_erase(request):
        raise PermissionDenied
    done = 0
    for identifier in sorted({value for value in identifiers if value}):
        try:
            erase_recipient(identifier)
            done += 1
        except ValidationError as error:
            modeladmin.message_user(request, "; ".join(error.messages), messages.ERROR)
    modeladmin.message_user(request, f"Erased the personal data of {done} person(s); fingerprints kept.",
                            messages.SUCCESS)


@admin.register(Suppression)
@add_masked_displays
class SuppressionAdmin(MaskedAddressesMixin, ExportMixin, admin.ModelAdmin):
    """Addresses that receive no more marketing mail, with the reason; managers lift a suppression, privacy
    officers erase people. Addresses masked for staff without ``view_recipient_address``."""

    masked_fields = ("email",)
    masked_text_fields = ("details",)
    masked_columns = {"address": "masked_address_column", "short_details": "masked_short_details"}

    resource_classes = [SuppressionResource]
    formats = [SafeCSV]
    list_display = ["address", "reason", "short_details", "source", "created_at", "in_force", "lifted_at",
                    "lifted_by"]
    list_filter = [InForceFilter, "reason", "source", "created_at"]
    search_fields = ["email", "details", "source"]
    date_hierarchy = "created_at"
    readonly_fields = ["address_hash", "user_id_hash", "created_at", "lifted_at", "lifted_by", "evidence",
                       "expires_at"]
    fields = ["email", "reason", "details", "source", "evidence", "expires_at", "address_hash", "user_id_hash",
              "created_at", "lifted_at", "lifted_by"]
    actions = ["lift", "erase"]
    change_list_template = "admin/ace_admin/privacy/suppression_change_list.html"

    @admin.display(description="address", ordering="email")
    def address(self, obj):
        return obj.email or f"erased (fingerprint {(obj.address_hash or obj.user_id_hash)[:12]}…)"

    @admin.display(description="details")
    def short_details(self, obj):
        return obj.details if len(obj.details) <= 80 else obj.details[:79] + "…"

    @admin.display(description="address", ordering="email")
    def masked_address_column(self, obj):
        return mask_address(obj.email) if obj.email else self.address(obj)

    @admin.display(description="details")
    def masked_short_details(self, obj):
        text = mask_text(obj.details)
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="in force", boolean=True)
    def in_force(self, obj):
        return obj.in_force

    @admin.display(description="evidence")
    def evidence(self, obj):
        return evidence_link(obj.event)

    def get_search_results(self, request, queryset, search_term):
        # An erased address is found again by its fingerprint: staff can check whether someone is suppressed.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if ("@" in term or term.isdigit()) and not self._masking(request):
            found = found | queryset.filter(address_hash=identity_hash(term)) | queryset.filter(
                user_id_hash=identity_hash(term))
        return found, duplicates

    def save_model(self, request, obj, form, change):
        if not change and not obj.source:
            obj.source = "admin"
        super().save_model(request, obj, form, change)

    @admin.action(description="Lift the selected suppressions (send marketing mail again)",
                  permissions=["change"])
    def lift(self, request, queryset):
        count = suppression.lift(queryset, user=request.user)
        self.message_user(request, f"Lifted {count} suppression(s).", messages.SUCCESS)

    def has_erase_permission(self, request):
        return _can_erase(request)

    @admin.action(description="Erase these people's personal data (keeps a fingerprint)", permissions=["erase"])
    def erase(self, request, queryset):
        _erase_people(self, request, queryset.exclude(email="").values_list("email", flat=True))

    def get_urls(self):
        return [path("erase/", self.admin_site.admin_view(self.erase_view), name="ace_admin_erase_recipient"),
                *super().get_urls()]

    def erase_view(self, request):
        """A form to erase one person by address or user id (the same as ``manage.py ace_erase_recipient``)."""
        if not _can_erase(request):
            raise PermissionDenied
        form = EraseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = erase_recipient(form.cleaned_data["identifier"])
            except ValidationError as error:
                form.add_error("identifier", error)
            else:
                self.message_user(request, f"Erased: {report}", messages.SUCCESS)
                return redirect(reverse("admin:ace_admin_suppression_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Erase a person's data", "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/ace_admin/privacy/erase.html", context)


def category_counts() -> list[dict]:
    """Opt-outs per scope: each category, each message type, and "all marketing"."""
    rows = (OptOut.objects.order_by().values("category", "app_label", "message_name")
            .annotate(count=Count("id")))
    table = []
    for row in rows:
        if row["message_name"]:
            label = f"message type {row['app_label']}.{row['message_name']}"
        else:
            label = f"category {row['category']}" if row["category"] else "all non-transactional messages"
        table.append({"label": label, "count": row["count"]})
    return sorted(table, key=lambda item: (-item["count"], item["label"]))


@admin.register(OptOut)
@add_masked_displays
class OptOutAdmin(MaskedAddressesMixin, SafeImportExportMixin, ImportExportMixin, admin.ModelAdmin):
    """People's choices not to receive some messages; counts per category and erasure for privacy officers."""

    change_list_template = "admin/ace_admin/privacy/optout_change_list.html"
    actions = ["erase"]
    resource_classes = [OptOutResource]
    masked_fields = ("email",)
    formats = [SafeCSV]
    list_display = ["email", "lms_user_id", "category", "message_type_display", "source", "created_at"]
    list_filter = ["source", "category", "app_label", "message_name", "created_at"]
    search_fields = ["email", "lms_user_id", "category", "app_label", "message_name"]
    fields = ["lms_user_id", "email", "category", "app_label", "message_name", "source", "evidence", "created_at"]
    readonly_fields = ["created_at", "evidence"]
    date_hierarchy = "created_at"

    @admin.display(description="evidence")
    def evidence(self, obj):
        return evidence_link(obj.event)

    @admin.display(description="message type", ordering="message_name")
    def message_type_display(self, obj):
        return obj.message_type_key or "—"


    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "category_counts": category_counts()})

    def has_export_permission(self, request):
        """Exporting opt-outs (every address that opted out) is for privacy officers."""
        return request.user.has_perm("ace_admin.export_optout")

    def has_erase_permission(self, request):
        return _can_erase(request)

    @admin.action(description="Erase these people's personal data (keeps a fingerprint)", permissions=["erase"])
    def erase(self, request, queryset):
        people = [email or user_id for email, user_id in queryset.values_list("email", "lms_user_id")]
        _erase_people(self, request, people)
