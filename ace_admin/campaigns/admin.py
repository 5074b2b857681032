"""Admin for campaigns: audiences (list import), campaigns ("Run now"), runs (live progress, pause/resume/cancel)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from ace_admin.archive import ArchiveAdminMixin
from ace_admin.campaigns import abtest, audiences, preflight, service
from ace_admin.campaigns import test_send as campaign_test_send
from ace_admin.campaigns.story import failure_groups, retry_history, run_progress, story
from ace_admin.importing import check_size
from ace_admin.models import (
    Audience,
    AudienceMember,
    Campaign,
    CampaignRun,
    CampaignVariant,
    DeliveryLog,
    MessageType,
    PreflightOverride,
    QuietHours,
)
from ace_admin.privacy.masking import (
    MaskedAddressesMixin,
    add_masked_displays,
    can_see_addresses,
    mask_address,
    mask_text,
)
from ace_admin.reports.queries import variant_funnels


class AudienceForm(forms.ModelForm):
    class Meta:
        model = Audience
        fields = ["name", "description", "kind", "code_name", "params"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(item.name, f"{item.label} ({item.name})") for item in
                                 audiences.registered().values()]
        self.fields["code_name"] = forms.ChoiceField(
            choices=choices, required=False, label="Group",
            help_text="For a group defined in code: which one. Its settings go below; example: "
                      + "; ".join(f"{item.name}: {item.params_help}" for item in audiences.registered().values()
                                  if item.params_help))


class ImportForm(forms.Form):
    file = forms.FileField(label="File", help_text="CSV (UTF-8) or Excel (.xlsx) with an 'email' column; optional "
                                                   "'lms_user_id' and 'language' columns; any other column becomes a "
                                                   "personal detail the templates can use.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_size(upload.size)  # before anything reads it
        return upload


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    form = AudienceForm
    list_display = ["name", "kind", "size", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]
    change_form_template = "admin/ace_admin/audience/change_form.html"

    @admin.display(description="people")
    def size(self, obj):
        if obj.kind != Audience.KIND_STATIC:
            return "computed when sent"
        url = reverse("admin:ace_admin_audiencemember_changelist") + f"?audience__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.members.count())

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("<int:pk>/import/", view, name="ace_admin_audience_import"), *super().get_urls()]

    def import_view(self, request, pk):
        audience = get_object_or_404(Audience, pk=pk)
        if not self.has_change_permission(request, audience):
            raise PermissionDenied
        if audience.kind != Audience.KIND_STATIC:
            self.message_user(request, "Only a list of people can be imported into.", messages.ERROR)
            return redirect("admin:ace_admin_audience_change", pk)
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            kind = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
            try:
                report = audiences.import_members(audience, upload.read(), kind)
            except ValidationError as error:
                form.add_error("file", error)
            else:
                level = messages.ERROR if report.refused else messages.SUCCESS if not report.problems \
                    else messages.WARNING
                self.message_user(request, f"Import into '{audience}': {report.summary()}", level)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": audience,
                   "title": f"Import people into {audience}", "form": form, "report": report}
        return render(request, "admin/ace_admin/audience/import.html", context)


@admin.register(AudienceMember)
@add_masked_displays
class AudienceMemberAdmin(MaskedAddressesMixin, admin.ModelAdmin):
    masked_fields = ("email",)
    list_display = ["email", "lms_user_id", "language", "audience"]
    list_filter = ["audience"]
    search_fields = ["email", "lms_user_id"]
    list_select_related = ["audience"]
    autocomplete_fields = ["audience"]


class VariantFormSet(forms.BaseInlineFormSet):
    """A/B variants: each its own message type, none the campaign's own, all in the campaign's category (people
    who opted out of one must not get another) and of the same kind (transactional or not)."""

    def clean(self):
        super().clean()
        campaign_type = self.instance.message_type if self.instance.message_type_id else None
        seen_types, seen_labels = set(), set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            message_type, label = data.get("message_type"), data.get("label")
            if label in seen_labels:
                form.add_error("label", f"Variant {label} is listed twice.")
            seen_labels.add(label)
            if message_type is None:
                continue
            if campaign_type is not None and message_type.pk == campaign_type.pk:
                form.add_error("message_type", "This is the campaign's own message (variant A): choose a copy of it "
                                               "with what you want to test changed.")
            elif message_type.pk in seen_types:
                form.add_error("message_type", "Two variants send the same message type: their results could not "
                                               "be told apart.")
            elif campaign_type is not None and (message_type.category != campaign_type.category
                                                or message_type.transactional != campaign_type.transactional):
                form.add_error("message_type", f"{message_type} is {_kind(message_type)}; the campaign's message "
                               f"is {_kind(campaign_type)}. A variant must be the same, so opt-outs apply the same "
                               "way.")
            seen_types.add(message_type.pk)


def _number(query, name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(query.get(name, default)), low), high)
    except (TypeError, ValueError):
        return default


def _ab_figures(query, sendable: int) -> str:
    """How the form's A/B test would split ``sendable`` people ("" without variants)."""
    count = _number(query, "variants", 0, 0, len(CampaignVariant.LABELS))
    if not count:
        return ""
    rule = query.get("ab_winner_rule") or Campaign.AB_RULE_CLICK
    holdout = _number(query, "ab_holdout_percent", 0, 0, 50)
    plan = {"variants": {label: 0 for label in (abtest.CONTROL, *CampaignVariant.LABELS[:count])},
            "holdout_percent": holdout,
            "test_percent": abtest.test_percent(rule, _number(query, "ab_test_percent", 20, 1, 90), holdout)}
    split = abtest.estimate(plan, sendable)
    each = ", ".join(f"{label} {n:,}" for label, n in split["variants"].items())
    held = f"; {split['holdout']:,} held out" if split["holdout"] else ""
    if rule == Campaign.AB_RULE_NONE:
        return f"A/B split, about: {each}{held}."
    hours = _number(query, "ab_wait_hours", 4, 1, 168)
    return (f"A/B test, about: {each} in the test{held}; {split['rest']:,} get the winner {hours} h after the "
            "run starts.")


def _kind(message_type) -> str:
    transactional = "transactional" if message_type.transactional else "not transactional"
    return f"in the category '{message_type.category or 'none'}' ({transactional})"


class CampaignVariantInline(admin.TabularInline):
    model = CampaignVariant
    formset = VariantFormSet
    extra = 0
    max_num = len(CampaignVariant.LABELS)
    autocomplete_fields = ["message_type"]
    verbose_name = "A/B variant (the campaign's message is A)"
    verbose_name_plural = "A/B test variants (the campaign's message is A; add B, C, D to test them)"


@admin.register(Campaign)
class CampaignAdmin(ArchiveAdminMixin, admin.ModelAdmin):
    list_display = ["name", "message_type", "audience", "schedule", "schedule_summary", "enabled", "archived",
                    "last_run"]
    list_filter = ["schedule", "enabled"]
    search_fields = ["name"]
    autocomplete_fields = ["message_type", "audience"]
    actions = ["run_now", "duplicate"]
    change_form_template = "admin/ace_admin/campaign/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "message_type", "audience", "channels", "language", "context", "archived"]}),
        ("When", {"fields": ["enabled", "schedule", "run_at", "grace_minutes", ("every", "period"),
                             ("cron_minute", "cron_hour", "cron_day_of_week", "cron_day_of_month",
                              "cron_month_of_year"), "timezone", "local_send_time", "recipient_timezone_key"]}),
        ("A/B test (with variants below)", {"fields": [
            "ab_winner_rule", ("ab_test_percent", "ab_holdout_percent"), "ab_wait_hours"]}),
        ("Advanced", {"classes": ["collapse"], "fields": ["expiration_hours", "options"]}),
    ]
    inlines = [CampaignVariantInline]

    @admin.display(description="schedule")
    def schedule_summary(self, obj):
        if obj.schedule == Campaign.SCHEDULE_ONCE:
            return f"at {obj.run_at:%Y-%m-%d %H:%M %Z}" if obj.run_at else "—"
        if obj.schedule == Campaign.SCHEDULE_INTERVAL:
            return f"every {obj.every} {obj.period}"
        if obj.schedule == Campaign.SCHEDULE_CRONTAB:
            return (f"{obj.cron_minute} {obj.cron_hour} {obj.cron_day_of_month} {obj.cron_month_of_year} "
                    f"{obj.cron_day_of_week} ({obj.timezone})")
        return "by hand"

    @admin.display(description="last run")
    def last_run(self, obj):
        run = obj.runs.order_by("-started_at").first()
        if run is None:
            return "—"
        url = reverse("admin:ace_admin_campaignrun_change", args=[run.pk])
        return format_html('<a href="{}">{} ({})</a>', url, run.started_at.strftime("%Y-%m-%d %H:%M"),
                           run.get_status_display())

    def save_model(self, request, obj, form, change):
        service.save_campaign(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("figures/", view(self.figures_view), name="ace_admin_campaign_figures"),
                path("<int:pk>/test/", view(self.test_send_view), name="ace_admin_campaign_test"),
                *super().get_urls()]

    def test_send_view(self, request, pk):
        """Send a test of the campaign to the seed addresses (or to oneself), under the preview's rules."""
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method != "POST" or not self.has_view_permission(request, campaign):
            raise PermissionDenied
        plan, results = campaign_test_send.send(campaign, request.user)
        if plan.refused:
            self.message_user(request, plan.refused, messages.ERROR)
        for address, why in plan.skipped:
            self.message_user(request, f"Test not sent to {address}: {why}.", messages.WARNING)
        for address, status in results:
            self.message_user(request, f"Test to {address}: {status}.",
                              messages.SUCCESS if status == "sent" else messages.ERROR)
        return redirect("admin:ace_admin_campaign_change", pk)

    def figures_view(self, request):
        """The audience figures the campaign form shows (JSON): size, languages, opted out, suppressed, duration."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        audience = Audience.objects.filter(pk=request.GET.get("audience") or 0).first()
        if audience is None:
            return JsonResponse({"error": "Choose an audience."}, status=400)
        message_type = MessageType.objects.filter(pk=request.GET.get("message_type") or 0).first()
        try:
            found = preflight.figures(audience, message_type, language=request.GET.get("language", ""))
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        found["ab_text"] = _ab_figures(request.GET, found["sendable"])
        return JsonResponse(found)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = Campaign.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        extra = dict(extra_context or {})
        if campaign is not None:
            extra.update(story(campaign))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @admin.action(description="Duplicate (a copy, not scheduled)", permissions=["add"])
    def duplicate(self, request, queryset):
        for campaign in queryset:
            copy = service.duplicate_campaign(campaign)
            url = reverse("admin:ace_admin_campaign_change", args=[copy.pk])
            self.message_user(request, format_html('Created <a href="{}">{}</a>.', url, copy), messages.SUCCESS)

    def archive_queryset(self, queryset) -> int:
        count = 0
        for campaign in queryset:  # one by one: each schedule is removed
            service.archive_campaign(campaign)
            count += 1
        return count

    @admin.action(description="Run now", permissions=["change"])
    def run_now(self, request, queryset):
        for campaign in queryset:
            if campaign.archived:
                self.message_user(request, f"{campaign} is archived: restore it from the archive to run it.",
                                  messages.ERROR)
                continue
            run = service.start_run(campaign, trigger="hand")
            url = reverse("admin:ace_admin_campaignrun_change", args=[run.pk])
            if run.status == CampaignRun.BLOCKED:
                self.message_user(request, format_html(
                    'The preflight check blocked <a href="{}">the run of {}</a>: {}', url, campaign, run.error),
                    messages.ERROR)
                continue
            self.message_user(request, format_html('Started <a href="{}">a run of {}</a>.', url, campaign),
                              messages.SUCCESS)


@admin.register(CampaignRun)
class CampaignRunAdmin(admin.ModelAdmin):
    list_display = ["campaign", "status", "trigger", "started_at", "progress", "sent", "denied", "failed", "expired",
                    "finished_at"]
    list_filter = ["status", "trigger", "campaign"]
    list_select_related = ["campaign"]
    readonly_fields = ["campaign", "trigger", "send_uuid", "started_at", "expires_at"]
    fields = readonly_fields
    actions = ["pause_runs", "resume_runs", "cancel_runs"]
    change_form_template = "admin/ace_admin/campaignrun/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing on a run is edited (no Save buttons); pause, resume, cancel, override and retry are their own
        # actions, allowed to those who may change campaigns.
        return False

    def may_control(self, request) -> bool:
        return request.user.has_perm("ace_admin.change_campaignrun")

    @admin.display(description="progress")
    def progress(self, obj):
        done = obj.sent + obj.denied + obj.failed + obj.expired
        return f"{round(100 * done / obj.recipients) if obj.recipients else 0}%"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/progress/", view(self.progress_view), name="ace_admin_campaignrun_progress"),
                path("<int:pk>/control/<str:action>/", view(self.control_view), name="ace_admin_campaignrun_control"),
                *super().get_urls()]

    def progress_view(self, request, pk):
        """The live figures the progress bar polls (JSON)."""
        run = get_object_or_404(CampaignRun, pk=pk)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return JsonResponse(run_progress(run))

    def control_view(self, request, pk, action):
        run = get_object_or_404(CampaignRun, pk=pk)
        if request.method != "POST" or not self.may_control(request):
            raise PermissionDenied
        if action == "override":
            try:
                done = service.override_preflight(run, request.user, request.POST.get("reason", ""))
            except ValueError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, "Launched despite the preflight findings; your reason is logged."
                                  if done else "This run is not blocked.", messages.SUCCESS if done else
                                  messages.WARNING)
            return redirect("admin:ace_admin_campaignrun_change", pk)
        if action.startswith("choose-"):
            label = action.removeprefix("choose-")
            try:
                result = service.decide_winner(run.pk, choose=label, user=request.user)
            except ValueError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                chosen = result == f"winner {label}"
                self.message_user(request, f"Variant {label} is being sent to the rest of the audience." if chosen
                                  else f"Nothing changed: {result}.", messages.SUCCESS if chosen else messages.WARNING)
            return redirect("admin:ace_admin_campaignrun_change", pk)
        if action == "retry":
            self._retry(request, run)
            return redirect("admin:ace_admin_campaignrun_change", pk)
        self._control(request, [run], action)
        return redirect("admin:ace_admin_campaignrun_change", pk)

    def _retry(self, request, run):
        """"Retry these N" of a failure group: the group is named by its status and reason, as the page shows it."""
        try:
            count = service.retry_failures(run, request.POST.get("status", ""), request.POST.get("reason", ""),
                                           request.user)
        except service.RetryRefused as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        if not count:
            self.message_user(request, "Nothing to retry: these messages were retried already.", messages.WARNING)
            return
        run.refresh_from_db()
        later = " They go out when the run is resumed." if run.status == CampaignRun.PAUSED else ""
        self.message_user(request, f"{count} message{'s' if count != 1 else ''} queued again in this run; the "
                          f"figures below follow them as they go out.{later}", messages.SUCCESS)

    def _control(self, request, runs, action):
        verbs = {"pause": (service.pause, "paused"), "resume": (service.resume, "resumed"),
                 "cancel": (service.cancel, "cancelled")}
        if action not in verbs:
            raise PermissionDenied
        function, past = verbs[action]
        changed = [run for run in runs if function(run)]
        skipped = len(runs) - len(changed)
        if changed:
            self.message_user(request, f"{len(changed)} run(s) {past}.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} run(s) could not be {past} (not in a state that allows it).",
                              messages.WARNING)

    def has_control_permission(self, request):
        return self.may_control(request)

    @admin.action(description="Pause the selected runs", permissions=["control"])
    def pause_runs(self, request, queryset):
        self._control(request, list(queryset), "pause")

    @admin.action(description="Resume the selected runs", permissions=["control"])
    def resume_runs(self, request, queryset):
        self._control(request, list(queryset), "resume")

    @admin.action(description="Cancel the selected runs", permissions=["control"])
    def cancel_runs(self, request, queryset):
        self._control(request, list(queryset), "cancel")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        failures = (DeliveryLog.objects.filter(campaign_run_id=object_id)
                    .exclude(status__in=["sent", "denied", "sending", "retrying"])
                    .order_by("id")[:100] if str(object_id).isdigit() else [])
        if not can_see_addresses(request.user):
            failures = list(failures)
            for row in failures:  # shown only, never saved
                row.recipient_address, row.error = mask_address(row.recipient_address), mask_text(row.error)
        run = CampaignRun.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        extra = {"failures": failures, "may_control": self.may_control(request),
                 "failure_groups": failure_groups(object_id) if run else [],
                 "retries": retry_history(object_id) if run else [],
                 "log_url": reverse("admin:ace_admin_deliverylog_changelist") + f"?q={run.send_uuid}" if run else "",
                 "progress": run_progress(run) if run else {},
                 "variants": variant_funnels(run) if run else [],
                 "ab_labels": abtest.labels(run.ab_plan) if run else [], **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(QuietHours)
class QuietHoursAdmin(admin.ModelAdmin):
    list_display = ["category", "start", "end", "enabled"]


@admin.register(PreflightOverride)
class PreflightOverrideAdmin(admin.ModelAdmin):
    """The log of launches despite preflight findings: read only."""

    list_display = ["created_at", "campaign", "run", "username", "reason"]
    list_select_related = ["campaign", "run__campaign"]
    readonly_fields = ["created_at", "campaign", "run", "username", "reason", "findings"]
    fields = readonly_fields

    def _never(self, request, obj=None):
        return False

    # A log: nobody adds, edits or deletes an override.
    has_add_permission = has_change_permission = has_delete_permission = _never
