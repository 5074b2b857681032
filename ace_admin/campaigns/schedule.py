"""Keeps each campaign's django-celery-beat ``PeriodicTask`` in step with the campaign (create, update, remove)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask

FIRE_TASK = "ace_admin.tasks.fire_campaign"


def task_name(campaign) -> str:
    return f"ACE campaign #{campaign.pk}: {campaign.name}"[:200]


def validate(campaign) -> None:
    """Clear messages for a schedule that cannot work."""
    errors = {}
    try:
        ZoneInfo(campaign.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"Unknown time zone {campaign.timezone!r}; use a name such as 'Europe/Paris' or 'UTC'."
    if campaign.schedule == campaign.SCHEDULE_ONCE and campaign.run_at is None:
        errors["run_at"] = "Give the date and time to send."
    if campaign.schedule == campaign.SCHEDULE_INTERVAL:
        if not campaign.every:
            errors["every"] = "Give how many minutes, hours or days between runs."
        if not campaign.period:
            errors["period"] = "Choose minutes, hours or days."
    if campaign.schedule == campaign.SCHEDULE_CRONTAB:
        try:
            crontab(minute=campaign.cron_minute, hour=campaign.cron_hour, day_of_week=campaign.cron_day_of_week,
                    day_of_month=campaign.cron_day_of_month, month_of_year=campaign.cron_month_of_year)
        except (ValueError, TypeError) as error:
            errors["cron_minute"] = f"This calendar is not valid: {error}"
    if errors:
        raise ValidationError(errors)


def too_late(campaign, now=None) -> bool:
    """True when a one-off campaign's time has passed by more than its allowed delay."""
    if campaign.schedule != campaign.SCHEDULE_ONCE or campaign.run_at is None:
        return False
    now = now or timezone.now()
    return now > campaign.run_at + timedelta(minutes=campaign.grace_minutes)


def _schedule_fields(campaign) -> dict:
    fields = {"clocked": None, "interval": None, "crontab": None, "one_off": False}
    if campaign.schedule == campaign.SCHEDULE_ONCE:
        fields["clocked"] = ClockedSchedule.objects.create(clocked_time=campaign.run_at)
        fields["one_off"] = True
    elif campaign.schedule == campaign.SCHEDULE_INTERVAL:
        fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=campaign.every, period=campaign.period)
    else:
        fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
            minute=campaign.cron_minute, hour=campaign.cron_hour, day_of_week=campaign.cron_day_of_week,
            day_of_month=campaign.cron_day_of_month, month_of_year=campaign.cron_month_of_year,
            timezone=ZoneInfo(campaign.timezone or "UTC"))
    return fields


def sync(campaign) -> None:
    """Create, update or remove the campaign's ``PeriodicTask`` (called when the campaign is saved)."""
    wanted = (campaign.enabled and not campaign.archived and campaign.schedule != campaign.SCHEDULE_NONE
              and not too_late(campaign))
    if not wanted:
        remove(campaign)
        return
    task = PeriodicTask.objects.filter(pk=campaign.periodic_task_id).first() if campaign.periodic_task_id else None
    old_clocked = task.clocked if task is not None else None
    values = {"name": task_name(campaign), "task": FIRE_TASK, "args": json.dumps([campaign.pk]), "enabled": True,
              "description": "Sends an ACE campaign (managed by ACE: edit the campaign, not this entry)."}
    values.update(_schedule_fields(campaign))
    if task is None:
        task = PeriodicTask.objects.create(**values)
        type(campaign).objects.filter(pk=campaign.pk).update(periodic_task=task)
        campaign.periodic_task = task
    else:
        for key, value in values.items():
            setattr(task, key, value)
        task.save()
    if old_clocked is not None and old_clocked.pk != (task.clocked_id or 0):
        old_clocked.delete()


def remove(campaign) -> None:
    """Delete the campaign's ``PeriodicTask`` (and its one-off clock) so the scheduler forgets it."""
    if not campaign.periodic_task_id:
        return
    task = PeriodicTask.objects.filter(pk=campaign.periodic_task_id).first()
    if task is not None:
        clocked = task.clocked
        task.delete()
        if clocked is not None:
            clocked.delete()
    if campaign.pk:
        type(campaign).objects.filter(pk=campaign.pk).update(periodic_task=None)
    campaign.periodic_task = None
