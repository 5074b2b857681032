"""Report figures from the counters and the delivery log, against a run whose outcomes are known."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ace_admin.models import CampaignRun
from ace_admin.reports import queries
from tests.factories import CampaignRunFactory, DeliveryLogFactory, SuppressionFactory
from tests.reports.conftest import LINK_A, LINK_B

pytestmark = pytest.mark.django_db


def test_funnel_for_run_counts_messages_once_and_people_only(run_with_events):
    run, _ = run_with_events
    funnel = queries.funnel_for_run(run)
    assert {key: funnel[key] for key in ("sent", "delivered", "opened", "clicked", "bounced", "complained",
                                         "unsubscribed", "opens", "clicks", "machine_opens", "machine_clicks")} == {
        "sent": 10, "delivered": 9, "opened": 3, "clicked": 3, "bounced": 1, "complained": 1, "unsubscribed": 1,
        "opens": 4, "clicks": 4, "machine_opens": 1, "machine_clicks": 1}
    assert funnel["delivery_rate"] == pytest.approx(0.9)
    assert funnel["open_rate"] == pytest.approx(3 / 9)
    assert funnel["click_rate"] == pytest.approx(3 / 9)
    assert funnel["click_to_open_rate"] == pytest.approx(1.0)
    assert funnel["bounce_rate"] == pytest.approx(0.1)
    assert funnel["complaint_rate"] == pytest.approx(1 / 9)


def test_a_run_report_has_series_links_and_languages(run_with_events):
    run, _ = run_with_events
    report = queries.report_for_run(run)
    today = timezone.now().date()
    assert [(row["day"], row["sent"], row["delivered"], row["opened"], row["clicked"], row["bounced"],
             row["machine_opens"]) for row in report["series"]] == [(today, 10, 9, 3, 3, 1, 1)]
    assert report["links"] == [
        {"url": LINK_A, "people": 2, "clicks": 3, "machine_clicks": 1},
        {"url": LINK_B, "people": 1, "clicks": 1, "machine_clicks": 0}]
    languages = {row["language"]: row for row in report["languages"]}
    assert set(languages) == {"en", "fr"}
    assert (languages["en"]["sent"], languages["en"]["delivered"], languages["en"]["opened"],
            languages["en"]["clicked"], languages["en"]["complained"]) == (6, 6, 3, 3, 1)
    assert (languages["fr"]["sent"], languages["fr"]["delivered"], languages["fr"]["bounced"],
            languages["fr"]["unsubscribed"]) == (4, 3, 1, 1)
    assert languages["fr"]["bounce_rate"] == pytest.approx(0.25)
    assert report["variants"] == []


def test_a_report_reads_counters_never_events(run_with_events):
    run, _ = run_with_events
    with CaptureQueriesContext(connection) as queries_run:
        queries.report_for_run(run)
    sql = " ".join(query["sql"] for query in queries_run.captured_queries)
    assert "ace_admin_deliveryevent" not in sql
    assert len(queries_run.captured_queries) <= 5


def test_message_type_report_covers_every_message_of_the_type(run_with_events):
    run, rows = run_with_events
    DeliveryLogFactory(message_type=run.campaign.message_type, language="en")  # sent outside the campaign
    funnel = queries.report_for_message_type(run.campaign.message_type, days=7)["funnel"]
    assert (funnel["sent"], funnel["delivered"], funnel["opened"]) == (11, 9, 3)


def test_without_delivery_reports_rates_use_sent_less_hard_bounces():
    funnel = queries.funnel(100, {"bounced_hard": [2, 2, 0], "opened": [30, 20, 5]})
    assert not funnel["deliveries_reported"]
    assert funnel["open_rate"] == pytest.approx(20 / 98)
    assert funnel["bounce_rate"] == pytest.approx(0.02)
    assert queries.funnel(0, {})["open_rate"] is None


def test_dashboard_flags_rates_above_the_thresholds_and_shows_runs_in_progress(run_with_events, settings):
    settings.ACE_REPORTS_MIN_SENT = 5
    run, _ = run_with_events
    done = CampaignRunFactory(done=True)
    data = queries.dashboard()
    assert (data["funnel"]["sent"], data["funnel"]["delivered"], data["funnel"]["complained"]) == (10, 9, 1)
    assert [row["run"] for row in data["runs"]] == [run] and done.pk not in [r["run"].pk for r in data["runs"]]
    assert data["runs"][0]["percent"] == pytest.approx(100 * 11 / 12, abs=0.1)
    flagged = {(row["subject"].split(" (")[0], row["what"], row["level"]) for row in data["attention"]}
    assert ("the last 7 days", "bounce rate", "alert") in flagged  # 10% >= 5%
    assert ("the last 7 days", "complaint (spam report) rate", "alert") in flagged  # 11% >= 0.3%
    assert (f"run of {run.campaign.name}", "bounce rate", "alert") in flagged
    assert data["suppression_spike"] is None or data["suppression_spike"]["last_day"] >= 10


def test_dashboard_flags_nothing_below_the_minimum_sent(run_with_events):
    assert queries.dashboard()["attention"] == []  # 10 sent < ACE_REPORTS_MIN_SENT (100)


def test_a_suppression_spike_is_flagged(db):
    SuppressionFactory.create_batch(12)
    assert queries.suppression_spike() == {"last_day": 12, "daily_average": 0.0}


def test_runs_in_progress_leave_finished_runs_out(db):
    CampaignRunFactory(status=CampaignRun.CANCELLED)
    assert queries.runs_in_progress() == []
