"""A campaign's schedule lives in django-celery-beat: created, updated and removed with the campaign."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from ace_admin.campaigns import tasks
from ace_admin.models import Campaign, CampaignRun
from tests.campaigns.conftest import make_audience, make_campaign

pytestmark = pytest.mark.django_db


def test_a_one_off_campaign_gets_a_clocked_one_off_task(greeting):
    at = timezone.now() + timedelta(hours=2)
    campaign = make_campaign(greeting, make_audience(1), schedule=Campaign.SCHEDULE_ONCE, run_at=at)
    task = PeriodicTask.objects.get(pk=campaign.periodic_task_id)
    assert task.one_off and task.enabled and task.clocked.clocked_time == at
    assert task.task == "ace_admin.tasks.fire_campaign" and json.loads(task.args) == [campaign.pk]


def test_changing_the_schedule_updates_the_task_and_forgets_the_old_clock(greeting):
    campaign = make_campaign(greeting, make_audience(1), schedule=Campaign.SCHEDULE_ONCE,
                             run_at=timezone.now() + timedelta(hours=2))
    task_pk = campaign.periodic_task_id
    campaign.schedule, campaign.cron_minute, campaign.cron_hour = Campaign.SCHEDULE_CRONTAB, "0", "9"
    campaign.cron_day_of_week, campaign.timezone = "1", "Europe/Paris"
    campaign.save()
    task = PeriodicTask.objects.get(pk=task_pk)
    assert task.clocked is None and not task.one_off
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("9", "0", "1")
    assert str(task.crontab.timezone) == "Europe/Paris"
    assert not ClockedSchedule.objects.exists()
    campaign.schedule, campaign.every, campaign.period = Campaign.SCHEDULE_INTERVAL, 2, "hours"
    campaign.save()
    task.refresh_from_db()
    assert task.crontab is None and (task.interval.every, task.interval.period) == (2, "hours")


def test_disabling_or_deleting_removes_the_task(greeting):
    campaign = make_campaign(greeting, make_audience(1), schedule=Campaign.SCHEDULE_INTERVAL, every=1, period="days")
    assert PeriodicTask.objects.count() == 1
    campaign.enabled = False
    campaign.save()
    assert PeriodicTask.objects.count() == 0 and campaign.periodic_task is None
    campaign.enabled = True
    campaign.save()
    assert PeriodicTask.objects.count() == 1
    Campaign.objects.filter(pk=campaign.pk).delete()  # the admin's bulk delete
    assert PeriodicTask.objects.count() == 0


def test_bad_schedules_are_refused_with_clear_errors(greeting):
    campaign = Campaign(name="x", message_type=greeting, audience=make_audience(1), schedule=Campaign.SCHEDULE_ONCE,
                        timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as info:
        campaign.full_clean()
    assert "Unknown time zone" in str(info.value) and "date and time to send" in str(info.value)
    campaign.schedule, campaign.timezone, campaign.cron_hour = Campaign.SCHEDULE_CRONTAB, "UTC", "25"
    with pytest.raises(ValidationError, match="calendar is not valid"):
        campaign.full_clean()


def test_a_one_off_fired_long_after_its_time_is_marked_missed(greeting, run_on_commit):
    campaign = make_campaign(greeting, make_audience(3), schedule=Campaign.SCHEDULE_ONCE,
                             run_at=timezone.now() + timedelta(minutes=1), grace_minutes=15)
    Campaign.objects.filter(pk=campaign.pk).update(run_at=timezone.now() - timedelta(hours=3))
    run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="beat-firing-1")
    run = CampaignRun.objects.get(campaign=campaign)
    assert run.status == CampaignRun.MISSED and "nothing was sent" in run.error
    assert mail.outbox == []


def test_a_late_one_off_within_its_grace_period_is_sent(greeting, run_on_commit):
    campaign = make_campaign(greeting, make_audience(3), schedule=Campaign.SCHEDULE_ONCE,
                             run_at=timezone.now() + timedelta(minutes=1), grace_minutes=60)
    Campaign.objects.filter(pk=campaign.pk).update(run_at=timezone.now() - timedelta(minutes=30))
    run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="beat-firing-2")
    assert CampaignRun.objects.get(campaign=campaign).status == CampaignRun.DONE
    assert len(mail.outbox) == 3


def test_a_redelivered_firing_makes_no_second_run(greeting, run_on_commit):
    campaign = make_campaign(greeting, make_audience(2))
    run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="same-firing")
    run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="same-firing")
    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
    assert len(mail.outbox) == 2
