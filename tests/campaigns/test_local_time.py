"""Sends at a local time in each recipient's zone, and quiet hours that defer: the UTC instants, with the clock
passed explicitly (no sleeping). The week of 2027-10-31 has Europe's change from summer time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from ace_admin.campaigns import localtime, service, tasks
from ace_admin.models import AudienceMember, CampaignBatch, CampaignRun, DeliveryLog, QuietHours
from tests.campaigns.conftest import make_audience, make_campaign

START = datetime(2027, 10, 30, 13, 30, tzinfo=UTC)  # Saturday; Paris leaves summer time on Sunday 03:00
ZONES = {"p1@example.org": "Asia/Tokyo", "p2@example.org": "Europe/Paris", "p3@example.org": "America/Sao_Paulo",
         "p4@example.org": "", "p5@example.org": "Mars/Olympus_Mons"}  # the last two: the campaign's zone
EXPECTED = {  # the next 09:00 in each zone, in UTC
    "p1@example.org": datetime(2027, 10, 31, 0, 0, tzinfo=UTC),   # JST +9
    "p2@example.org": datetime(2027, 10, 31, 8, 0, tzinfo=UTC),   # CET +1 (it was +2 the day before)
    "p3@example.org": datetime(2027, 10, 31, 12, 0, tzinfo=UTC),  # -3, no summer time
    "p4@example.org": datetime(2027, 10, 31, 13, 0, tzinfo=UTC),  # New York, EDT -4 until November 7
    "p5@example.org": datetime(2027, 10, 31, 13, 0, tzinfo=UTC),
}


def _row(zone):
    return {"id": "1", "email": "x@example.org", "lang": "", "ctx": {"time_zone": zone}}


def test_next_local_time_in_three_zones_across_a_dst_change():
    plan = localtime.Plan(time(9, 0), localtime.zone("America/New_York"), "time_zone")
    for address, zone in ZONES.items():
        assert plan.due(_row(zone), START) == (EXPECTED[address], "waiting for their local 09:00"), address
    # The day before the change Paris' 09:00 was 07:00 UTC.
    assert plan.due(_row("Europe/Paris"), datetime(2027, 10, 29, 13, 0, tzinfo=UTC))[0] == datetime(
        2027, 10, 30, 7, 0, tzinfo=UTC)
    # Already 09:00 there: due now, no wait.
    assert plan.due(_row("America/Sao_Paulo"), datetime(2027, 10, 30, 12, 0, tzinfo=UTC)) == (
        datetime(2027, 10, 30, 12, 0, tzinfo=UTC), "")


def test_quiet_hours_defer_to_their_end_in_local_time():
    quiet = (localtime.Window("marketing", time(21, 0), time(8, 0)),)
    plan = localtime.Plan(None, localtime.zone("UTC"), "time_zone", quiet)
    late = datetime(2027, 10, 30, 22, 30, tzinfo=UTC)
    # Paris: 00:30 local (summer time) -> 08:00 local on Sunday, winter time: 07:00 UTC.
    assert plan.due(_row("Europe/Paris"), late) == (datetime(2027, 10, 31, 7, 0, tzinfo=UTC),
                                                   "quiet hours (marketing 21:00–08:00 local)")
    # Tokyo: 07:30 local -> 08:00 local, half an hour later.
    assert plan.due(_row("Asia/Tokyo"), late)[0] == datetime(2027, 10, 30, 23, 0, tzinfo=UTC)
    # São Paulo: 19:30 local, not quiet: now.
    assert plan.due(_row("America/Sao_Paulo"), late) == (late, "")
    # A local send time inside quiet hours waits for their end: 07:00 -> 08:00 Tokyo time.
    early = localtime.Plan(time(7, 0), localtime.zone("UTC"), "time_zone", quiet)
    assert early.due(_row("Asia/Tokyo"), START)[0] == datetime(2027, 10, 30, 23, 0, tzinfo=UTC)
    # A daytime window (12:00-14:00).
    lunch = localtime.Plan(None, localtime.zone("UTC"), "time_zone", (localtime.Window("m", time(12), time(14)),))
    assert lunch.due(_row("UTC"), START)[0] == datetime(2027, 10, 30, 14, 0, tzinfo=UTC)


def _started(campaign):
    """A run as start_run leaves it (checked, running), started at START."""
    return CampaignRun.objects.create(campaign=campaign, status=CampaignRun.RUNNING,
                                      expires_at=datetime(2027, 11, 1, tzinfo=UTC))


@pytest.fixture
def zoned_campaign(greeting):
    audience = make_audience(5)
    for address, zone in ZONES.items():
        member = AudienceMember.objects.get(email=address)
        member.context = {**member.context, "time_zone": zone}
        member.save()
    return make_campaign(greeting, audience, local_send_time=time(9, 0), timezone="America/New_York")


def test_a_run_sends_each_person_at_their_local_time_exactly_once(zoned_campaign, smtp_settings, run_on_commit):
    run = _started(zoned_campaign)
    run_on_commit(service.read_audience, run.pk, now=START)  # eager Celery: each batch is tried at once, too early
    assert smtp_settings.messages == []
    batches = {batch.not_before: batch for batch in CampaignBatch.objects.filter(run=run)}
    assert set(batches) == set(EXPECTED.values())
    assert service.waiting(run.pk, now=START) == [
        ("waiting for their local 09:00", 5, EXPECTED["p1@example.org"])]
    run.refresh_from_db()
    assert run.expires_at >= EXPECTED["p5@example.org"]  # the last zone still has its whole time to deliver

    delivered = []
    for instant in sorted(set(EXPECTED.values())):
        for batch in CampaignBatch.objects.filter(run=run, status=CampaignBatch.QUEUED):
            # Not before its time: a batch asked two minutes early is not taken.
            assert service.send_batch(batch.pk, now=batch.not_before - timedelta(minutes=2)) == "not taken"
            assert service.send_batch(batch.pk, now=instant) == ("done" if batch.not_before <= instant
                                                                 else "not taken")
        now_sent = sorted(message.rcpt_tos[0] for message in smtp_settings.messages)
        due = sorted(address for address, when in EXPECTED.items() if when <= instant)
        assert now_sent == due, instant
        delivered = now_sent
        assert sum(count for _, count, _ in service.waiting(run.pk, now=instant)) == 5 - len(due)
    assert delivered == sorted(EXPECTED)
    # Delivered twice by the broker: nobody gets a second message.
    for batch in CampaignBatch.objects.filter(run=run):
        CampaignBatch.objects.filter(pk=batch.pk).update(status=CampaignBatch.QUEUED)
        service.send_batch(batch.pk, now=max(EXPECTED.values()))
    assert len(smtp_settings.messages) == 5
    assert DeliveryLog.objects.filter(campaign_run=run, status="sent").count() == 5
    service.maybe_finish(run.pk)
    assert CampaignRun.objects.get(pk=run.pk).status == CampaignRun.DONE


def test_quiet_hours_defer_a_run_never_drop(greeting, smtp_settings, run_on_commit):
    QuietHours.objects.create(category="marketing", start=time(21, 0), end=time(8, 0))
    audience = make_audience(2)
    AudienceMember.objects.filter(email="p1@example.org").update(context={"first_name": "P1",
                                                                          "time_zone": "Asia/Tokyo"})
    run = _started(make_campaign(greeting, audience))
    late = datetime(2027, 10, 30, 22, 30, tzinfo=UTC)  # 07:30 in Tokyo, 22:30 in UTC (the campaign's zone)
    run_on_commit(service.read_audience, run.pk, now=late)
    waiting = service.waiting(run.pk, now=late)
    assert [(reason, count) for reason, count, _ in waiting] == [
        ("quiet hours (marketing 21:00–08:00 local)", 2)]
    by_time = {batch.not_before: batch for batch in CampaignBatch.objects.filter(run=run)}
    assert set(by_time) == {datetime(2027, 10, 30, 23, 0, tzinfo=UTC), datetime(2027, 10, 31, 8, 0, tzinfo=UTC)}
    for when, batch in sorted(by_time.items()):
        assert service.send_batch(batch.pk, now=late) == "not taken"
        assert service.send_batch(batch.pk, now=when) == "done"
    assert sorted(message.rcpt_tos[0] for message in smtp_settings.messages) == ["p1@example.org", "p2@example.org"]


def test_transactional_messages_ignore_quiet_hours(greeting):
    QuietHours.objects.create(category="marketing", start=time(0, 0), end=time(23, 59))
    greeting.transactional = True
    campaign = make_campaign(greeting, make_audience(1))
    assert not localtime.plan_for(campaign, QuietHours.objects.all()).active
    greeting.transactional = False
    assert localtime.plan_for(campaign, QuietHours.objects.all()).active


def test_tasks_module_still_exposes_the_service(greeting):
    assert tasks.start_run is service.start_run
