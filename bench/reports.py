"""Benchmark: a campaign run's report page for a 100,000-recipient run with 300,000 events (goal: median < 300 ms).

Run from the checkout root: ``.venv/bin/python bench/reports.py`` (``--recipients 100000 --events 300000``).

Data: one run of ``--recipients`` delivery-log rows (bulk insert; 4 languages; sent three days ago) and
``--events`` events recorded through the events wing's one writer (``ingest``, batches of 5,000): deliveries,
hard and soft bounces, complaints, unsubscribes, opens by people (with repeats) and by machines, clicks on 12
links by people and by scanners, spread over three days (the events go round the rows: every recipient has
at least one open; not a realistic open rate, the same number of counter rows). The report page is then fetched
through the Django test client as a superuser (``--rounds`` times after a warm-up); printed: the median and
p95, next to the report's queries alone (``report_for_run``), the admin's landing page (the dashboard) and, as a
baseline in the same run, the run's own admin change page.

SQLite file by default; BENCH_DATABASE_URL=postgres://... for PostgreSQL (that database is dropped and re-created).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.events import _environment, _setup  # noqa: E402 (after the path is set)

GOAL_MS = 300.0
LINKS = 12


def build(recipients: int, events: int):
    """The run, its rows and its events (see the module docstring); returns the run."""
    from django.utils import timezone

    from ace_admin.events.ingest import Incoming, ingest
    from ace_admin.models import Audience, Campaign, CampaignRun, DeliveryLog, EventType, MessageType

    message_type = MessageType.objects.create(app_label="bench", name="news", category="newsletter")
    campaign = Campaign.objects.create(name="Bench newsletter", message_type=message_type,
                                       schedule=Campaign.SCHEDULE_NONE, enabled=False,
                                       audience=Audience.objects.create(name="Bench list"))
    run = CampaignRun.objects.create(campaign=campaign, recipients=recipients, sent=recipients,
                                     status=CampaignRun.DONE, audience_done=True)
    started = timezone.now() - timedelta(days=3)
    rows = (DeliveryLog(message_uuid=uuid.uuid4(), app_label="bench", message_name="news", message_type=message_type,
                        recipient_id=str(n), recipient_address=f"r{n}@example.org", channel_type="email",
                        channel_name="django_email", status="sent", attempts=1, campaign_run=run,
                        language=("en", "fr", "de", "es")[n % 4], finished_at=started)
            for n in range(recipients))
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            DeliveryLog.objects.bulk_create(batch)
            batch = []
    DeliveryLog.objects.bulk_create(batch)
    DeliveryLog.objects.filter(campaign_run=run).update(created_at=started)
    CampaignRun.objects.filter(pk=run.pk).update(started_at=started, finished_at=started + timedelta(hours=1))
    ids = list(DeliveryLog.objects.filter(campaign_run=run).order_by("pk").values_list("pk", flat=True))

    # A third deliveries and bounces, the rest opens and clicks (people, repeats, machines) over three days.
    plan = [(EventType.DELIVERED, 0.31, ""), (EventType.BOUNCED_HARD, 0.006, ""), (EventType.BOUNCED_SOFT, 0.003, ""),
            (EventType.COMPLAINED, 0.0004, ""), (EventType.UNSUBSCRIBED, 0.0013, ""),
            (EventType.OPENED, 0.36, ""), (EventType.OPENED, 0.10, "Apple Mail Privacy Protection"),
            (EventType.CLICKED, 0.21, ""), (EventType.CLICKED, 0.0093, "scanner")]
    items, n = [], 0
    for kind, share, machine in plan:
        for k in range(int(events * share)):
            offset = timedelta(seconds=60 + (n * 7919) % (3 * 86400 - 120))
            items.append(Incoming(kind, "bench", provider_event_id=f"e{n}", delivery_id=ids[(k * 13) % len(ids)],
                                  occurred_at=started + offset, machine_reason=machine,
                                  url=f"https://shop.example.org/item/{k % LINKS}" if kind == EventType.CLICKED
                                  else ""))
            n += 1
    while len(items) < events:  # rounding: the rest are repeat opens
        items.append(Incoming(EventType.OPENED, "bench", provider_event_id=f"e{n}", delivery_id=ids[n % len(ids)],
                              occurred_at=started + timedelta(hours=5)))
        n += 1
    start = time.perf_counter()
    for first in range(0, len(items), 5000):
        ingest(items[first:first + 5000], consequences=False)
    return run, len(items), time.perf_counter() - start


def _time(function, rounds: int) -> tuple[float, float]:
    function()  # warm-up: templates compiled, connections open
    values = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        values.append((time.perf_counter() - start) * 1000)
    values.sort()
    return statistics.median(values), values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ace-bench-reports-") as workdir:
        _setup(_environment(workdir))
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from ace_admin.models import DeliveryEvent, EventDailyCount, LinkDailyCount
        from ace_admin.reports.queries import report_for_run

        start = time.perf_counter()
        run, count, ingest_seconds = build(args.recipients, args.events)
        print(f"Reports benchmark: Python {platform.python_version()}, {platform.machine()}, {connection.vendor}, "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"data: {args.recipients:,} sent, {DeliveryEvent.objects.count():,} events ({count:,} ingested in "
              f"{ingest_seconds:.1f} s), {EventDailyCount.objects.count()} daily counter rows, "
              f"{LinkDailyCount.objects.count()} link counter rows; built in {time.perf_counter() - start:.0f} s")
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench")
        client = Client()
        client.force_login(user)

        def page(url):
            def get():
                response = client.get(url)
                assert response.status_code == 200, response.status_code
            return get

        report_url = reverse("admin:ace_admin_reports_run", args=[run.pk])
        figures = {
            "run report page": _time(page(report_url), args.rounds),
            "report queries alone (report_for_run)": _time(lambda: report_for_run(run), args.rounds),
            "admin landing page with the dashboard": _time(page(reverse("admin:index")), args.rounds),
            "baseline: the run's admin change page": _time(
                page(reverse("admin:ace_admin_campaignrun_change", args=[run.pk])), args.rounds),
        }
        funnel = report_for_run(run)["funnel"]
        print(f"funnel: sent {funnel['sent']:,}, delivered {funnel['delivered']:,}, opened {funnel['opened']:,}, "
              f"clicked {funnel['clicked']:,}, machine opens {funnel['machine_opens']:,}")
        for name, (median, p95) in figures.items():
            goal = f" (goal < {GOAL_MS:.0f} ms)" if name == "run report page" else ""
            print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms{goal}")


if __name__ == "__main__":
    main()
