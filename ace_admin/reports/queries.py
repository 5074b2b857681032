"""Report figures: funnels, daily series, clicks per link, results per language, and the dashboard's.

Everything after "sent" is read from the daily counters the events wing keeps (``EventDailyCount``,
``LinkDailyCount``: a few hundred rows for a run), never from ``DeliveryEvent``. "Sent" is the delivery log's
rows with status ``sent`` (test sends left out), counted in one pass per report. Rates count each message once
(``unique_messages``: the first event of a kind by a person) and people only; opens and clicks by machines
(Apple Mail Privacy Protection, link scanners) are given apart and are in no rate.

Plain functions, for the report pages, the CSV exports and any other page (e.g. a campaign run's page shows
:func:`funnel_for_run`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from ace_admin.models import (
    CampaignRun,
    DeliveryLog,
    EventDailyCount,
    EventType,
    LinkDailyCount,
    MessageType,
    Suppression,
    TrackedLink,
)
from ace_admin.reports import stats
from ace_admin.settings import admin_settings

#: A chart over more days than this shows only the days that have figures.
MAX_SERIES_DAYS = 92
#: Counter columns of a series row, in chart order.
SERIES_KEYS = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")


@dataclass(frozen=True)
class Scope:
    """What a report covers: a filter on the counters, one on the delivery log, and the days "sent" is split
    into (the days messages may have been sent on)."""

    counters: Q
    log: Q
    send_days: tuple[date, ...] = field(default=())


def _days(first: date, last: date) -> tuple[date, ...]:
    count = min((last - first).days + 1, MAX_SERIES_DAYS)
    return tuple(first + timedelta(days=n) for n in range(max(count, 0)))


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def run_scope(run: CampaignRun) -> Scope:
    end = (run.finished_at or timezone.now()).astimezone(UTC).date()
    first = run.started_at.astimezone(UTC).date() if run.started_at else end
    return Scope(Q(campaign_run_id=run.pk), Q(campaign_run_id=run.pk), _days(first, max(first, end)))


def period_scope(first: date, last: date, **counters) -> Scope:
    """Days ``first`` to ``last`` (UTC) of every message, or of those matching ``counters`` (e.g.
    ``message_type_id=3``; the same names filter the delivery log)."""
    log = Q(created_at__gte=_start(first), created_at__lt=_start(last + timedelta(days=1)), **counters)
    return Scope(Q(day__gte=first, day__lte=last, **counters), log, _days(first, last))


def message_type_scope(message_type: MessageType, first: date, last: date) -> Scope:
    return period_scope(first, last, message_type_id=message_type.pk)


# --- reading ---------------------------------------------------------------------------------------------------------


def _sent(scope: Scope, by: str = "language"):
    """Messages sent in ``scope``: ``{by value: {"total": n, day: n, ...}}`` in one pass over the log."""
    per_day = {f"d{n}": Count("id", filter=Q(created_at__gte=_start(day),
                                             created_at__lt=_start(day + timedelta(days=1))))
               for n, day in enumerate(scope.send_days)}
    rows = (DeliveryLog.objects.filter(scope.log, status="sent", is_test=False).order_by()
            .values(by).annotate(total=Count("id"), **per_day))
    result = {}
    for row in rows:
        result[row[by] or ""] = {"total": row["total"],
                                 **{day: row[f"d{n}"] for n, day in enumerate(scope.send_days)}}
    return result


def _counters(scope: Scope, *keys: str):
    """``{(key values..., event type): [events, unique, machine]}`` from the daily counters."""
    rows = (EventDailyCount.objects.filter(scope.counters).order_by().values(*keys, "event_type")
            .annotate(n=Sum("events"), unique=Sum("unique_messages"), machine=Sum("machine_events")))
    return {(*(row[key] for key in keys), row["event_type"]): [row["n"], row["unique"], row["machine"]]
            for row in rows}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel(sent: int, totals: dict[str, list[int]]) -> dict:
    """The funnel from "sent" and ``{event type: [events, unique messages, machine events]}``.

    Rates: delivered / sent; opened, clicked, complained, unsubscribed / delivered (when the provider reports
    no deliveries, e.g. plain SMTP: / sent less hard bounces); bounce rate: hard bounces / sent (as ESPs count
    it; soft bounces are shown apart); click-to-open: clicked / opened.
    """
    def get(event_type, column=1):
        return (totals.get(event_type) or [0, 0, 0])[column]

    delivered, opened, clicked = get(EventType.DELIVERED), get(EventType.OPENED), get(EventType.CLICKED)
    bounced, complained = get(EventType.BOUNCED_HARD), get(EventType.COMPLAINED)
    base = delivered or max(sent - bounced, 0)
    return {
        "sent": sent, "delivered": delivered, "opened": opened, "clicked": clicked,
        "bounced": bounced, "soft_bounced": get(EventType.BOUNCED_SOFT), "complained": complained,
        "unsubscribed": get(EventType.UNSUBSCRIBED), "deferred": get(EventType.DEFERRED),
        "failed": get(EventType.FAILED) + get(EventType.REJECTED),
        "opens": get(EventType.OPENED, 0), "clicks": get(EventType.CLICKED, 0),
        "machine_opens": get(EventType.OPENED, 2), "machine_clicks": get(EventType.CLICKED, 2),
        "deliveries_reported": bool(delivered),
        "delivery_rate": _ratio(delivered, sent), "open_rate": _ratio(opened, base),
        "click_rate": _ratio(clicked, base), "click_to_open_rate": _ratio(clicked, opened),
        "bounce_rate": _ratio(bounced, sent), "complaint_rate": _ratio(complained, base),
        "unsubscribe_rate": _ratio(get(EventType.UNSUBSCRIBED), base),
    }


def _merge(counts: dict, index: int | None = None) -> dict[object, dict[str, list[int]]]:
    """Counters keyed by (k0, k1, ..., event type) -> {key[index]: {event type: summed counters}} (all under
    ``None`` when ``index`` is None)."""
    merged: dict = {}
    for key, numbers in counts.items():
        slot = merged.setdefault(None if index is None else key[index], {}).setdefault(key[-1], [0, 0, 0])
        for n, value in enumerate(numbers):
            slot[n] += value or 0
    return merged


def _totals(counts: dict) -> dict[str, list[int]]:
    """``{event type: counters}`` summed over the other key parts."""
    return _merge(counts).get(None, {})


def _series(scope: Scope, sent: dict, by_day: dict) -> list[dict]:
    sent_per_day = {day: sum(row.get(day, 0) for row in sent.values()) for day in scope.send_days}
    days = sorted({day for day, count in sent_per_day.items() if count} | set(by_day))
    if days and (days[-1] - days[0]).days < MAX_SERIES_DAYS:
        days = list(_days(days[0], days[-1]))
    series = []
    for day in days:
        row = funnel(sent_per_day.get(day, 0), by_day.get(day, {}))
        series.append({"day": day, **{key: row[key] for key in SERIES_KEYS},
                       "machine_opens": row["machine_opens"], "machine_clicks": row["machine_clicks"]})
    return series


def links(scope: Scope) -> list[dict]:
    """Clicks per link, most clicked first: url, people (messages whose person clicked it), clicks, machine."""
    rows = list(LinkDailyCount.objects.filter(scope.counters).order_by().values("link_id")
                .annotate(clicks=Sum("clicks"), unique=Sum("unique_clicks"), machine=Sum("machine_clicks")))
    urls = dict(TrackedLink.objects.filter(pk__in=[row["link_id"] for row in rows]).values_list("pk", "url"))
    result = [{"url": urls.get(row["link_id"], f"(link #{row['link_id']})"), "people": row["unique"] or 0,
               "clicks": row["clicks"] or 0, "machine_clicks": row["machine"] or 0} for row in rows]
    return sorted(result, key=lambda row: (-row["people"], -row["clicks"], row["url"]))


def variant_funnels(run: CampaignRun) -> list[dict]:
    """One funnel per A/B variant of ``run`` (``[]`` when the run tests nothing), A first. Each variant is its own
    message type, so "sent" is the run's log rows of that message type and the rest its counters; the winner's
    funnel includes what it sent to the rest of the audience."""
    plan = (run.ab_plan or {}).get("variants") or {}
    if not plan:
        return []
    sent = dict(DeliveryLog.objects.filter(campaign_run_id=run.pk, status="sent", is_test=False).order_by()
                .values_list("message_type_id").annotate(n=Count("id")).values_list("message_type_id", "n"))
    counts = _merge(_counters(Scope(Q(campaign_run_id=run.pk), Q()), "message_type_id"), 0)
    names = dict(MessageType.objects.filter(pk__in=plan.values()).values_list("pk", "name"))
    notes = dict(run.campaign.variants.values_list("label", "note")) if run.campaign_id else {}
    rows = [{"variant": label, "message_type": names.get(pk, f"#{pk}"), "note": notes.get(label, ""),
             "winner": run.winner == label, **funnel(sent.get(pk, 0), counts.get(pk, {}))}
            for label, pk in sorted(plan.items())]
    # How sure a difference is: each variant against the one leading on the test's metric (clicks without a rule).
    rule = run.ab_plan.get("rule") or "click"
    leader, summary = stats.compare(rule, {row["variant"]: row for row in rows})
    for row in rows:
        row["metric"] = summary["metric"]
        row["leader"] = row["variant"] == leader
        row["confidence"] = summary["confidence"].get(row["variant"])
    return rows


def variants(scope: Scope, run: CampaignRun | None = None) -> list[dict]:
    """Results per A/B variant: a run's (see :func:`variant_funnels`); other reports (a period, a message type)
    mix runs and have none."""
    return variant_funnels(run) if run is not None else []


def report(scope: Scope, run: CampaignRun | None = None) -> dict:
    """Everything a report page shows: ``funnel``, ``series`` (per day), ``links``, ``languages``, ``variants``."""
    sent = _sent(scope)
    counts = _counters(scope, "day", "language")
    by_language = _merge(counts, 1)
    languages = [{"language": language, **funnel(sent.get(language, {}).get("total", 0), by_language.get(language, {}))}
                 for language in sorted(set(sent) | set(by_language))]
    total = funnel(sum(row["total"] for row in sent.values()), _totals(counts))
    return {"funnel": total, "series": _series(scope, sent, _merge(counts, 0)), "links": links(scope),
            "languages": languages, "variants": variants(scope, run)}


def funnel_for_scope(scope: Scope) -> dict:
    sent = sum(row["total"] for row in _sent(scope).values())
    return funnel(sent, _totals(_counters(scope)))


def funnel_for_run(run: CampaignRun) -> dict:
    """One run's funnel (see :func:`funnel` for the keys): for the campaign pages."""
    scope = run_scope(run)
    return funnel_for_scope(Scope(scope.counters, scope.log))


def report_for_run(run: CampaignRun) -> dict:
    return report(run_scope(run), run)


def report_for_message_type(message_type: MessageType, days: int = 30, today: date | None = None) -> dict:
    last = today or timezone.now().astimezone(UTC).date()
    return report(message_type_scope(message_type, last - timedelta(days=days - 1), last))


# --- the dashboard ---------------------------------------------------------------------------------------------------


def runs_in_progress(limit: int = 20) -> list[dict]:
    runs = (CampaignRun.objects.filter(status__in=[CampaignRun.RUNNING, CampaignRun.PAUSED])
            .select_related("campaign").order_by("-started_at")[:limit])
    result = []
    for run in runs:
        done = run.sent + run.denied + run.failed + run.expired
        result.append({"run": run, "campaign": run.campaign.name, "status": run.get_status_display(),
                       "started_at": run.started_at, "recipients": run.recipients, "done": done, "sent": run.sent,
                       "percent": round(100 * done / run.recipients, 1) if run.recipients else 0.0})
    return result


def _flags(subject: str, figures: dict, sent: int) -> list[dict]:
    """What is above the thresholds in ``figures`` (a funnel), once at least ACE_REPORTS_MIN_SENT were sent."""
    if sent < admin_settings.ACE_REPORTS_MIN_SENT:
        return []
    found = []
    for name, label, warning, alert in (
            ("bounce_rate", "bounce rate", admin_settings.ACE_REPORTS_BOUNCE_RATE_WARNING,
             admin_settings.ACE_REPORTS_BOUNCE_RATE_ALERT),
            ("complaint_rate", "complaint (spam report) rate", admin_settings.ACE_REPORTS_COMPLAINT_RATE_WARNING,
             admin_settings.ACE_REPORTS_COMPLAINT_RATE_ALERT)):
        value = figures.get(name)
        if value is not None and value >= warning:
            found.append({"subject": subject, "what": label, "value": value,
                          "threshold": alert if value >= alert else warning,
                          "level": "alert" if value >= alert else "warning"})
    return found


def recent_run_flags(since: datetime, limit: int = 50) -> list[dict]:
    """Runs started since ``since`` whose rates are above the thresholds ("sent": the run's own counter)."""
    runs = {run.pk: run for run in CampaignRun.objects.filter(started_at__gte=since).select_related("campaign")
            .order_by("-started_at")[:limit]}
    counts = _merge(_counters(Scope(Q(campaign_run_id__in=list(runs)), Q()), "campaign_run_id"), 0)
    found = []
    for pk, run in runs.items():
        for flag in _flags(f"run of {run.campaign.name} ({run.started_at:%Y-%m-%d %H:%M})",
                           funnel(run.sent, counts.get(pk, {})), run.sent):
            found.append({**flag, "run": run})
    return found


def suppression_spike(now: datetime | None = None) -> dict | None:
    """Suppressions of the last 24 hours against the daily average of the 7 days before: two indexed counts."""
    now = now or timezone.now()
    day = timedelta(days=1)
    last = Suppression.objects.filter(created_at__gte=now - day).count()
    before = Suppression.objects.filter(created_at__gte=now - 8 * day, created_at__lt=now - day).count()
    average = before / 7
    if last >= 10 and last > admin_settings.ACE_REPORTS_SUPPRESSION_SPIKE * average:
        return {"last_day": last, "daily_average": round(average, 1)}
    return None


def dashboard(days: int = 7, today: date | None = None) -> dict:
    """The admin's landing page: the last ``days`` days (funnel and per-day series), runs in progress, and what
    needs attention (rates above the thresholds, overall and per recent run; a spike in suppressions)."""
    last = today or timezone.now().astimezone(UTC).date()
    first = last - timedelta(days=days - 1)
    scope = period_scope(first, last)
    sent = _sent(scope)
    counts = _counters(scope, "day")
    total = funnel(sum(row["total"] for row in sent.values()), _totals(counts))
    attention = _flags(f"the last {days} days", total, total["sent"])
    attention += recent_run_flags(_start(first))
    spike = suppression_spike()
    return {"first": first, "last": last, "funnel": total, "series": _series(scope, sent, _merge(counts, 0)),
            "runs": runs_in_progress(), "attention": attention, "suppression_spike": spike}
