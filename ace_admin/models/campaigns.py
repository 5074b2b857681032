"""Campaigns: a message type sent to an audience on a schedule by Celery workers (``ace_admin.campaigns``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ace_admin.campaigns import registry as audiences
from ace_admin.campaigns import schedule as campaign_schedule
from ace_admin.models.content import MessageType


class Audience(models.Model):
    """Who a campaign goes to: a list of people imported from a file, or a group defined in the platform's code."""

    KIND_STATIC = "static"
    KIND_CODE = "code"

    name = models.CharField("name", max_length=200, unique=True,
                            help_text="A name marketing staff recognise, e.g. 'Newsletter subscribers 2026'.")
    description = models.TextField("description", blank=True, help_text="Who is in this audience and why.")
    kind = models.CharField(
        "kind", max_length=10, default=KIND_STATIC,
        choices=[(KIND_STATIC, "A list of people (imported from a file)"),
                 (KIND_CODE, "A group defined in the platform's code")],
        help_text="A list you import (CSV or Excel), or a group the platform computes when the campaign runs.")
    code_name = models.CharField(
        "group", max_length=150, blank=True,
        help_text="For a group defined in code: its registered name (see 'Campaigns' in the README).")
    params = models.JSONField(
        "group settings", default=dict, blank=True,
        help_text="For a group defined in code: its settings in JSON, e.g. {\"count\": 50}.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this audience was added.")

    class Meta:
        verbose_name = "audience"
        verbose_name_plural = "audiences"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.kind == self.KIND_CODE:
            audiences.check_params(self.code_name, self.params)
        elif self.code_name:
            raise ValidationError({"code_name": "Only a group defined in code has a registered name."})


class AudienceMember(models.Model):
    """One person on an imported audience list."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="members",
                                 verbose_name="audience", help_text="The list this person is on.")
    lms_user_id = models.CharField("user id", max_length=64, blank=True,
                                   help_text="The person's user id on the platform, if known.")
    email = models.EmailField("email address", help_text="Where the message goes (stored in lower case).")
    language = models.CharField("language", max_length=20, blank=True,
                                help_text="Language code such as 'fr'. Blank: the campaign's language.")
    context = models.JSONField("personal details", default=dict, blank=True,
                               help_text="Extra values for the templates, e.g. {\"first_name\": \"Ada\"}.")

    class Meta:
        verbose_name = "audience member"
        verbose_name_plural = "audience members"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["audience", "email"], name="ace_admin_member_unique_email")]

    def __str__(self):
        return self.email


class Campaign(models.Model):
    """A message type sent to an audience once, or repeatedly on a schedule."""

    SCHEDULE_NONE = "none"
    SCHEDULE_ONCE = "once"
    SCHEDULE_INTERVAL = "interval"
    SCHEDULE_CRONTAB = "crontab"
    PERIODS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
    AB_RULE_CLICK, AB_RULE_OPEN, AB_RULE_NONE = "click", "open", "none"
    AB_RULES = [(AB_RULE_CLICK, "Highest unique click rate"), (AB_RULE_OPEN, "Highest unique open rate"),
                (AB_RULE_NONE, "No winner: split the whole audience between the variants")]

    name = models.CharField("name", max_length=200, unique=True, help_text="e.g. 'Monday newsletter'.")
    message_type = models.ForeignKey(MessageType, on_delete=models.PROTECT, related_name="campaigns",
                                     verbose_name="message type", help_text="The message every recipient receives.")
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns",
                                 verbose_name="audience", help_text="Who receives it.")
    context = models.JSONField(
        "shared details", default=dict, blank=True,
        help_text="Values (JSON) the templates use for everyone, e.g. {\"issue\": \"November\"}. A person's own "
                  "details win over these.")
    language = models.CharField("language", max_length=20, blank=True,
                                help_text="Language for people whose own language is not known. Blank: site default.")
    channels = models.CharField(
        "channels", max_length=10, default="email",
        choices=[("email", "Email"), ("push", "Push notification"), ("all", "Email and push notification")],
        help_text="Which kinds of message to send (each needs its templates).")
    options = models.JSONField("sending options", default=dict, blank=True,
                               help_text="Advanced: ACE message options in JSON, e.g. {\"from_address\": \"...\"}.")
    expiration_hours = models.PositiveIntegerField(
        "give up after (hours)", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Messages still not delivered this many hours after a run starts are dropped and logged as "
                  "expired. Blank: the ACE default.")
    enabled = models.BooleanField("scheduled", default=True,
                                  help_text="Untick to remove the schedule; 'Run now' still works.")
    archived = models.BooleanField(
        "archived", default=False,
        help_text="Archived campaigns keep their runs and delivery log, are unscheduled, cannot be run and are "
                  "hidden from the list by default. A campaign that has run is archived instead of deleted.")
    schedule = models.CharField(
        "when", max_length=10, default=SCHEDULE_ONCE,
        choices=[(SCHEDULE_NONE, "Only when started by hand ('Run now')"), (SCHEDULE_ONCE, "Once, at a given time"),
                 (SCHEDULE_INTERVAL, "Every N minutes, hours or days"),
                 (SCHEDULE_CRONTAB, "On a calendar (e.g. every Monday at 09:00)")],
        help_text="When the campaign runs.")
    run_at = models.DateTimeField("send at", null=True, blank=True,
                                  help_text="For 'Once': the date and time to send (in the site's time zone).")
    grace_minutes = models.PositiveIntegerField(
        "allowed delay (minutes)", default=15,
        help_text="For 'Once': if the scheduler was down and wakes up later than this after 'send at', the run "
                  "is marked missed instead of going out late.")
    every = models.PositiveIntegerField("every", null=True, blank=True, validators=[MinValueValidator(1)],
                                        help_text="For 'Every N...': how many minutes, hours or days.")
    period = models.CharField("unit", max_length=10, choices=PERIODS, blank=True,
                              help_text="For 'Every N...': minutes, hours or days.")
    cron_minute = models.CharField("minute", max_length=60, default="0",
                                   help_text="Calendar: minute(s), e.g. '0' or '0,30'.")
    cron_hour = models.CharField("hour", max_length=60, default="9", help_text="Calendar: hour(s), e.g. '9'.")
    cron_day_of_week = models.CharField("day of week", max_length=60, default="*",
                                        help_text="Calendar: '*' for every day, '1' for Monday, 'mon-fri'...")
    cron_day_of_month = models.CharField("day of month", max_length=60, default="*",
                                         help_text="Calendar: '*' or e.g. '1' for the first of the month.")
    cron_month_of_year = models.CharField("month", max_length=60, default="*", help_text="Calendar: '*' or 1-12.")
    timezone = models.CharField("time zone", max_length=63, default="UTC",
                                help_text="Time zone of the calendar, e.g. 'Europe/Paris' (09:00 is 09:00 there); "
                                          "also the zone of people whose own time zone is not known.")
    local_send_time = models.TimeField(
        "at this time in each person's time zone", null=True, blank=True,
        help_text="e.g. 09:00: a run sends to each person at the next 09:00 in their own time zone, spread over "
                  "the day as zones come due. Blank: everyone at once when the run starts.")
    recipient_timezone_key = models.CharField(
        "personal detail holding the time zone", max_length=100, default="time_zone", blank=True,
        help_text="Which personal detail of the audience (a column of the imported list, or a value the group "
                  "defined in code gives) names each person's time zone, e.g. 'America/Sao_Paulo'. People without "
                  "one, or with an unknown zone, use the campaign's time zone.")
    ab_test_percent = models.PositiveSmallIntegerField(
        "A/B test group (% of the audience)", default=20, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="With variants: this share of the audience is split evenly between the campaign's message (A) "
                  "and its variants; the rest gets the winner. Not used when there is no winner rule.")
    ab_holdout_percent = models.PositiveSmallIntegerField(
        "holdout (% of the audience)", default=0, validators=[MaxValueValidator(50)],
        help_text="With variants: this share of the audience gets nothing, to compare against. 0: no holdout.")
    ab_winner_rule = models.CharField(
        "winner rule", max_length=10, default=AB_RULE_CLICK, choices=AB_RULES,
        help_text="With variants: how the winner is picked after the wait, from the engagement events "
                  "(people only, machine opens and clicks left out).")
    ab_wait_hours = models.PositiveIntegerField(
        "wait before picking the winner (hours)", default=4, validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text="With a winner rule: how long after the run starts the test results are read and the winner "
                  "is sent to the rest of the audience.")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="scheduler entry", help_text="The scheduler's record of this campaign.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this campaign was created.")

    class Meta:
        verbose_name = "campaign"
        verbose_name_plural = "campaigns"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        campaign_schedule.validate(self)
        if (self.ab_winner_rule != self.AB_RULE_NONE and self.ab_test_percent is not None
                and self.ab_holdout_percent is not None and self.ab_test_percent + self.ab_holdout_percent > 95):
            raise ValidationError({"ab_test_percent": (
                f"The test group ({self.ab_test_percent}%) and the holdout ({self.ab_holdout_percent}%) leave "
                f"{100 - self.ab_test_percent - self.ab_holdout_percent}% for the winner: keep at least 5%, or "
                "choose 'No winner' to split everyone between the variants.")})


class CampaignRun(models.Model):
    """One firing of a campaign: who it went to and how it went."""

    RUNNING, PAUSED, CANCELLED, DONE, FAILED, MISSED = "running", "paused", "cancelled", "done", "failed", "missed"
    BLOCKED = "blocked"
    STATUSES = [(RUNNING, "Running"), (PAUSED, "Paused"), (CANCELLED, "Cancelled"), (DONE, "Done"),
                (FAILED, "Failed"), (MISSED, "Missed (scheduler was down)"),
                (BLOCKED, "Blocked by the preflight check (nothing sent)")]
    #: Statuses after which nothing more happens to a run.
    FINISHED = (CANCELLED, DONE, FAILED, MISSED, BLOCKED)

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="runs", verbose_name="campaign",
                                 help_text="The campaign this run belongs to.")
    send_uuid = models.UUIDField("bulk send id", default=uuid.uuid4, unique=True, editable=False,
                                 help_text="Shared by every message of this run (see the delivery log).")
    status = models.CharField("status", max_length=10, choices=STATUSES, default=RUNNING, db_index=True,
                              help_text="Where the run is.")
    trigger = models.CharField("started by", max_length=10, default="schedule",
                               choices=[("schedule", "the schedule"), ("hand", "someone ('Run now')")],
                               help_text="What started this run.")
    task_id = models.CharField("scheduler task id", max_length=255, null=True, blank=True, unique=True,
                               editable=False, help_text="The scheduler's id for this firing (one run per firing).")
    recipients = models.PositiveIntegerField("recipients", default=0, help_text="Messages this run has to send.")
    sent = models.PositiveIntegerField("sent", default=0, help_text="Messages delivered.")
    denied = models.PositiveIntegerField("denied", default=0,
                                         help_text="Messages a policy stopped (opt-out, frequency cap, rule).")
    failed = models.PositiveIntegerField("failed", default=0, help_text="Messages that could not be delivered.")
    expired = models.PositiveIntegerField("expired", default=0,
                                          help_text="Messages dropped because delivery took too long.")
    cursor = models.BigIntegerField("audience read up to", default=0, editable=False,
                                    help_text="Internal: where reading the audience resumes.")
    audience_done = models.BooleanField("audience read", default=False,
                                        help_text="Whether every recipient has been queued.")
    expires_at = models.DateTimeField("give up at", null=True, blank=True,
                                      help_text="Messages not delivered by then are logged as expired.")
    error = models.TextField("problem", blank=True, help_text="Why the run failed, was missed or blocked.")
    findings = models.JSONField(
        "preflight findings", default=list, blank=True,
        help_text="What the check before the launch found: template errors and variables that render empty, "
                  "for whom and in which template.")
    ab_plan = models.JSONField(
        "A/B test", default=dict, blank=True, editable=False,
        help_text="The A/B test as it was when the run started: variants (label: message type), shares, winner "
                  "rule and when the winner is picked. Empty: no test.")
    held_out = models.PositiveIntegerField("held out", default=0,
                                           help_text="Recipients of the A/B holdout: they get nothing from this run.")
    winner = models.CharField("A/B winner", max_length=1, blank=True,
                              help_text="The variant sent to the rest of the audience (A: the campaign's message).")
    winner_decided_at = models.DateTimeField("winner picked", null=True, blank=True,
                                             help_text="When the winner was picked.")
    winner_figures = models.JSONField(
        "A/B results at the decision", default=dict, blank=True,
        help_text="Each variant's figures when the winner was picked, the confidence of the difference, and who "
                  "picked it (the rule, or a manager).")
    started_at = models.DateTimeField("started", auto_now_add=True, help_text="When the run started.")
    finished_at = models.DateTimeField("finished", null=True, blank=True, help_text="When the run ended.")

    class Meta:
        verbose_name = "campaign run"
        verbose_name_plural = "campaign runs"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.campaign} — {self.started_at:%Y-%m-%d %H:%M}"


class CampaignBatch(models.Model):
    """Internal: a slice of a run's recipients handed to one worker; its lease lets another worker take over."""

    QUEUED, RUNNING, DONE, WAITING = "queued", "running", "done", "waiting"

    run = models.ForeignKey(CampaignRun, on_delete=models.CASCADE, related_name="batches", verbose_name="run",
                            help_text="The run this batch belongs to.")
    lineage = models.UUIDField("message id seed", default=uuid.uuid4,
                               help_text="Seeds the message ids of this slice (shared by its retries).")
    recipients = models.JSONField("recipients", help_text="The recipients of this slice.")
    status = models.CharField("status", max_length=10, default=QUEUED, db_index=True,
                              choices=[(QUEUED, "Queued"), (RUNNING, "Sending"), (DONE, "Done"),
                                       (WAITING, "Waiting for the A/B test's winner")],
                              help_text="Where the batch is.")
    not_before = models.DateTimeField("not before", null=True, blank=True,
                                      help_text="For retries and rate limits: not sent before this time.")
    token = models.UUIDField("held by", null=True, blank=True, help_text="Internal: the worker attempt holding it.")
    heartbeat_at = models.DateTimeField("last sign of life", null=True, blank=True,
                                        help_text="When the worker holding it last reported progress.")
    enqueued_at = models.DateTimeField("queued", auto_now_add=True, help_text="When it was last handed to workers.")
    # The poison-message cap (ace_admin.campaigns.service): a message whose processing kills the worker is not
    # sent forever.
    deliveries = models.PositiveIntegerField(
        "deliveries", default=0, help_text="Internal: how many workers took it since it last finished or paused.")
    suspect = models.UUIDField("message in doubt", null=True, blank=True,
                               help_text="Internal: the message being sent when a worker holding it stopped.")
    suspect_deaths = models.PositiveIntegerField(
        "stops on that message", default=0, help_text="Internal: how many workers stopped on that message.")
    size = models.PositiveIntegerField("recipients in it", default=0, help_text="How many recipients it holds.")
    variant = models.CharField(
        "A/B variant", max_length=10, blank=True,
        help_text="The A/B variant its recipients get (A: the campaign's message); 'holdout': they get nothing; "
                  "blank: no test, or the rest of the audience waiting for the winner.")
    wait_reason = models.CharField(
        "waiting for", max_length=200, blank=True,
        help_text="Why it is not sent before 'not before': the recipients' local send time, or quiet hours.")

    class Meta:
        verbose_name = "campaign batch"
        verbose_name_plural = "campaign batches"
        ordering = ["id"]

    def __str__(self):
        return f"batch {self.pk} of run {self.run_id}"


class RateLimitSlot(models.Model):
    """Internal: the shared per-channel rate limit when there is no Redis (the next free sending time)."""

    channel_name = models.CharField("delivery service", max_length=100, unique=True,
                                    help_text="The channel this limit applies to.")
    next_free = models.FloatField("next free time", default=0.0, help_text="Internal: a Unix time.")

    class Meta:
        verbose_name = "rate limit slot"
        verbose_name_plural = "rate limit slots"

    def __str__(self):
        return self.channel_name


class TaskDelivery(models.Model):
    """Internal: a background task a worker started and has not finished. Written (and committed) before the
    work starts, so a worker killed while processing it leaves its count behind; deleted when it finishes."""

    task_id = models.CharField("task id", max_length=255, unique=True, help_text="The Celery task id.")
    task_name = models.CharField("task", max_length=200, help_text="The task's name.")
    deliveries = models.PositiveIntegerField("deliveries", default=0,
                                             help_text="How many times a worker started it.")
    first_at = models.DateTimeField("first started", auto_now_add=True, help_text="When a worker first started it.")
    last_at = models.DateTimeField("last started", null=True, blank=True,
                                   help_text="When a worker last started it.")

    class Meta:
        verbose_name = "task delivery"
        verbose_name_plural = "task deliveries"

    def __str__(self):
        return f"{self.task_name} {self.task_id} ({self.deliveries})"


class PreflightOverride(models.Model):
    """A manager's decision to launch a run that the preflight check blocked: who, when, why, and what was found."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="preflight_overrides",
                                 verbose_name="campaign", help_text="The campaign launched despite the findings.")
    run = models.ForeignKey(CampaignRun, on_delete=models.PROTECT, related_name="preflight_overrides",
                            verbose_name="run", help_text="The run that was blocked and then started.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="by", help_text="The manager who overrode the check.")
    username = models.CharField("by (name)", max_length=150, blank=True,
                                help_text="The manager's login name, kept if the account is deleted.")
    reason = models.TextField("reason", help_text="Why the run was launched anyway.")
    findings = models.JSONField("findings overridden", default=list, blank=True,
                                help_text="What the check had found when it was overridden.")
    created_at = models.DateTimeField("when", auto_now_add=True, help_text="When the check was overridden.")

    class Meta:
        verbose_name = "preflight override"
        verbose_name_plural = "preflight overrides"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.run} overridden by {self.username or self.user_id}"


class QuietHours(models.Model):
    """A time of day, in each recipient's own time zone, when campaign messages of a category wait."""

    category = models.SlugField(
        "category", max_length=100, unique=True,
        help_text="Message types of this category (e.g. 'marketing') wait out these hours. Transactional messages "
                  "never wait.")
    start = models.TimeField("from", help_text="Local time the quiet hours begin, e.g. 21:00.")
    end = models.TimeField("until", help_text="Local time they end, e.g. 08:00 (the next morning when earlier "
                                              "than 'from').")
    enabled = models.BooleanField("in force", default=True, help_text="Untick to suspend these quiet hours.")

    class Meta:
        verbose_name = "quiet hours"
        verbose_name_plural = "quiet hours"
        ordering = ["category"]

    def __str__(self):
        return f"{self.category}: {self.start:%H:%M}–{self.end:%H:%M} local"

    def clean(self):
        super().clean()
        if self.start is not None and self.start == self.end:
            raise ValidationError({"end": "'From' and 'until' must differ."})


class CampaignVariant(models.Model):
    """An A/B variant of a campaign: another message type (its published subject and body) sent to a share of the
    test group. The campaign's own message type is variant A."""

    LABELS = ("B", "C", "D")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants",
                                 verbose_name="campaign", help_text="The campaign this variant belongs to.")
    label = models.CharField("variant", max_length=1, choices=[(label, label) for label in LABELS],
                             help_text="B, C or D (A is the campaign's own message).")
    message_type = models.ForeignKey(
        MessageType, on_delete=models.PROTECT, related_name="campaign_variants", verbose_name="message type",
        help_text="The message this variant sends: its published templates give the subject and body. Use "
                  "'Copy as an A/B variant' on a message type to start from the campaign's message.")
    note = models.CharField("what differs", max_length=200, blank=True,
                            help_text="e.g. 'shorter subject line', for the report.")

    class Meta:
        verbose_name = "A/B variant"
        verbose_name_plural = "A/B variants"
        ordering = ["campaign", "label"]
        constraints = [models.UniqueConstraint(fields=["campaign", "label"], name="ace_admin_variant_label_once")]

    def __str__(self):
        return f"{self.campaign} — variant {self.label}"
