"""What the campaign and run pages tell: status, next send, the schedule in words, run history, live progress
(waiting for local times and quiet hours included) and failures grouped by reason."""

from __future__ import annotations

from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.utils import timezone

from ace_admin.campaigns import abtest, failures, service
from ace_admin.models import Campaign, CampaignRun, DeliveryLog
from ace_admin.reports.queries import funnel_for_run

_DAYS = {"*": "every day", "mon-fri": "Monday to Friday", "1-5": "Monday to Friday", "0": "Sundays",
         "1": "Mondays", "2": "Tuesdays", "3": "Wednesdays", "4": "Thursdays", "5": "Fridays", "6": "Saturdays"}


def schedule_in_words(campaign) -> str:
    local = (f", at {campaign.local_send_time:%H:%M} in each person's time zone"
             if campaign.local_send_time else "")
    if campaign.schedule == Campaign.SCHEDULE_ONCE:
        when = f"once, on {timezone.localtime(campaign.run_at):%Y-%m-%d at %H:%M %Z}" if campaign.run_at else "once"
        return when + local
    if campaign.schedule == Campaign.SCHEDULE_INTERVAL:
        unit = (campaign.period or "").rstrip("s") if campaign.every == 1 else campaign.period
        return f"every {'' if campaign.every == 1 else f'{campaign.every} '}{unit}{local}"
    if campaign.schedule == Campaign.SCHEDULE_CRONTAB:
        days = _DAYS.get(campaign.cron_day_of_week.lower(), f"days of week {campaign.cron_day_of_week}")
        hours, minutes = campaign.cron_hour, campaign.cron_minute
        at = (f"{int(hours):02d}:{int(minutes):02d}" if hours.isdigit() and minutes.isdigit()
              else f"hour {hours}, minute {minutes}")
        extra = "" if campaign.cron_day_of_month == "*" else f", on day {campaign.cron_day_of_month} of the month"
        extra += "" if campaign.cron_month_of_year == "*" else f", in month {campaign.cron_month_of_year}"
        return f"{days} at {at} ({campaign.timezone}){extra}{local}"
    return "only when started by hand ('Run now')" + local


def next_send(campaign):
    """When the scheduler fires the campaign next (an aware datetime), or None."""
    task = campaign.periodic_task if campaign.periodic_task_id else None
    if task is None or not task.enabled:
        return None
    if task.clocked_id:
        return task.clocked.clocked_time
    now = timezone.now()
    try:
        return now + task.schedule.remaining_estimate(task.last_run_at or now)
    except Exception:  # noqa: BLE001 — an odd schedule shows no next time rather than a broken page
        return None


def campaign_status(campaign) -> str:
    if campaign.archived:
        return "archived"
    running = campaign.runs.filter(status__in=[CampaignRun.RUNNING, CampaignRun.PAUSED]).first()
    if running is not None:
        return f"a run is {running.get_status_display().lower()}"
    if campaign.periodic_task_id and campaign.enabled:
        return "scheduled"
    return "not scheduled"


def story(campaign) -> dict:
    runs = list(campaign.runs.order_by("-started_at", "-id")[:20])
    for run in runs:
        run.funnel = funnel_for_run(run)  # from the reports' daily counters, never the events
    return {"campaign_status": campaign_status(campaign), "next_send": next_send(campaign),
            "schedule_words": schedule_in_words(campaign), "runs": runs}


def run_progress(run) -> dict:
    """The live state of a run (what its page polls): status, counts, waiting recipients, which controls apply."""
    counts = service.counts(run.pk)
    total = max(run.recipients, counts["messages"])
    done = counts["messages"] - counts["pending"]
    waiting = [{"reason": reason, "count": count, "from": first.isoformat() if first else ""}
               for reason, count, first in service.waiting(run.pk)]
    finished = run.status in CampaignRun.FINISHED
    return {"status": run.status, "status_label": run.get_status_display(), "total": total, "done": done,
            "percent": round(100 * done / total, 1) if total else 0.0, **counts,
            "waiting": waiting, "waiting_text": "; ".join(f"{item['count']:,} {item['reason']}" for item in waiting),
            "finished_at": timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S")
            if run.finished_at else "", "error": run.error,
            "can_pause": run.status == CampaignRun.RUNNING, "can_resume": run.status == CampaignRun.PAUSED,
            "can_cancel": run.status in (CampaignRun.RUNNING, CampaignRun.PAUSED),
            "can_override": run.status == CampaignRun.BLOCKED,
            "can_retry": run.status in service.RETRY_STATUSES, "finished": finished,
            "ab_text": ab_text(run),
            "can_choose": run.status == CampaignRun.RUNNING and not run.winner and abtest.has_winner_rule(run.ab_plan)}


def ab_text(run) -> str:
    """Where the run's A/B test is, in a sentence ("" when the run tests nothing)."""
    plan = run.ab_plan or {}
    if not plan:
        return ""
    names = ", ".join(abtest.labels(plan))
    held = f"; {run.held_out:,} held out (get nothing)" if run.held_out else ""
    if not abtest.has_winner_rule(plan):
        return f"A/B split: the audience is shared evenly between {names}{held}."
    if run.winner:
        when = timezone.localtime(run.winner_decided_at).strftime("%Y-%m-%d %H:%M") if run.winner_decided_at else ""
        return (f"A/B test of {names}: {abtest.describe(run.winner_figures)} Picked {when}; the rest get "
                f"{run.winner}{held}.")
    due = timezone.localtime(datetime.fromisoformat(plan["decide_at"])).strftime("%Y-%m-%d %H:%M %Z")
    metric = "unique click" if plan.get("rule") == Campaign.AB_RULE_CLICK else "unique open"
    return (f"A/B test of {names} on {plan.get('test_percent')}% of the audience: the variant with the highest "
            f"{metric} rate is picked from {due} and sent to the rest{held}.")



def failure_groups(run_id) -> list[dict]:
    """The run's undelivered messages grouped by status and reason (addresses and ids taken out)."""
    groups: dict[tuple, dict] = {}
    rows = (DeliveryLog.objects.filter(campaign_run_id=run_id)
            .exclude(status__in=failures.NOT_FAILED)
            .values_list("status", "error").annotate(n=Count("id")))
    for status, error, count in rows:
        reason = failures.reason(status, error)
        group = groups.setdefault((status, reason), {"status": status, "reason": reason, "count": 0})
        group["count"] += count
        group["retryable"] = failures.retryable(status, reason)
    return sorted(groups.values(), key=lambda item: -item["count"])


def retry_history(run_id) -> list[dict]:
    """The retries asked for on the run (from its admin history), oldest first: ``[{"at", "who", "text"}]``."""
    entries = (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(CampaignRun),
                                       object_id=str(run_id), change_message__startswith="Retried ")
               .select_related("user").order_by("action_time"))
    return [{"at": entry.action_time, "who": entry.user.get_username(), "text": entry.change_message}
            for entry in entries]
