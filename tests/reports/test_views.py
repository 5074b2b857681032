"""The report pages, the dashboard on the admin index and the CSV exports, through the real admin URLs."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ace_admin.preview.csp import ADMIN_POLICY
from tests.factories import EditorFactory, ManagerFactory, PrivacyOfficerFactory, StaffFactory, UserFactory
from tests.reports.conftest import LINK_B

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()
                                       if response.streaming else response.content.decode())))


@pytest.mark.parametrize("role", [EditorFactory, ManagerFactory, PrivacyOfficerFactory])
def test_every_role_reads_a_run_report_with_its_charts(client, run_with_events, role):
    run, _ = run_with_events
    client.force_login(role())
    response = client.get(reverse("admin:ace_admin_reports_run", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    html = response.content.decode()
    assert html.count('class="ace-chart"') == 2 and 'role="img"' in html and "<script>" not in html
    assert "learn.example.org/course" in html


def test_staff_without_a_reading_permission_get_403_and_others_the_login(client, run_with_events):
    run, _ = run_with_events
    url = reverse("admin:ace_admin_reports_run", args=[run.pk])
    assert client.get(url).status_code == 302  # not logged in: the admin login
    client.force_login(StaffFactory())
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:ace_admin_reports_dashboard_csv", args=["funnel"])).status_code == 403
    client.force_login(UserFactory(is_staff=False))
    assert client.get(url).status_code == 302


def test_reports_are_read_only(client, run_with_events):
    run, _ = run_with_events
    client.force_login(ManagerFactory())
    response = client.post(reverse("admin:ace_admin_reports_run", args=[run.pk]))
    assert response.status_code == 405


def test_addresses_in_links_are_masked_for_editors_not_managers(client, run_with_events):
    run, _ = run_with_events
    url = reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "links"])
    client.force_login(EditorFactory())
    links = [row[0] for row in _csv(client.get(url))[1:]]
    assert LINK_B not in links and "https://learn.example.org/profile?email=a***@example.org" in links
    page = client.get(reverse("admin:ace_admin_reports_run", args=[run.pk])).content.decode()
    assert "ada@example.org" not in page
    client.force_login(ManagerFactory())
    assert LINK_B in [row[0] for row in _csv(client.get(url))[1:]]


def test_csv_exports_hold_the_tables_figures(client, run_with_events):
    run, _ = run_with_events
    client.force_login(ManagerFactory())
    funnel = _csv(client.get(reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "funnel"])))
    assert funnel[0] == ["step", "messages", "rate", "rate of"]
    rows = {row[0]: row for row in funnel[1:]}
    assert rows["sent"][1] == "10" and rows["delivered"][1:3] == ["9", "90.000%"]
    assert rows["bounced (hard)"][1:3] == ["1", "10.000%"]
    languages = _csv(client.get(reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "languages"])))
    assert [row[:3] for row in languages[1:]] == [["en", "6", "6"], ["fr", "4", "3"]]
    series = _csv(client.get(reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "series"])))
    assert series[1][1:6] == ["10", "9", "3", "3", "1"]
    assert client.get(reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "nope"])).status_code == 404


def test_csv_cells_are_formula_escaped(client, run_with_events):
    run, rows = run_with_events
    type(rows[0]).objects.filter(pk__in=[row.pk for row in rows[6:]]).update(language="=1+1")
    client.force_login(ManagerFactory())
    languages = _csv(client.get(reverse("admin:ace_admin_reports_run_csv", args=[run.pk, "languages"])))
    assert "'=1+1" in [row[0] for row in languages[1:]]


def test_the_admin_index_is_the_dashboard(client, run_with_events, settings):
    settings.ACE_REPORTS_MIN_SENT = 5
    run, _ = run_with_events
    client.force_login(EditorFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    html = response.content.decode()
    assert "ACE — the last 7 days" in html and html.count('class="ace-chart"') == 2
    assert "Needs attention" in html and "complaint (spam report) rate" in html
    assert run.campaign.name in html  # in progress
    for table in ("attention", "runs", "funnel", "series"):
        exported = _csv(client.get(reverse("admin:ace_admin_reports_dashboard_csv", args=[table])))
        assert len(exported) >= 2, table


def test_the_dashboard_is_not_shown_to_staff_who_may_not_read_reports(client, db):
    client.force_login(StaffFactory())
    assert "ACE — the last 7 days" not in client.get(reverse("admin:index")).content.decode()


def test_message_type_report_and_the_reports_list(client, run_with_events):
    run, _ = run_with_events
    client.force_login(EditorFactory())
    listing = client.get(reverse("admin:ace_admin_reports_index")).content.decode()
    assert reverse("admin:ace_admin_reports_run", args=[run.pk]) in listing
    response = client.get(reverse("admin:ace_admin_reports_type", args=[run.campaign.message_type_id]) + "?days=7")
    assert response.status_code == 200 and "the last 7 days" in response.content.decode()
    exported = _csv(client.get(reverse("admin:ace_admin_reports_type_csv", args=[run.campaign.message_type_id,
                                                                                  "funnel"]) + "?days=7"))
    assert {row[0]: row[1] for row in exported[1:]}["sent"] == "10"


def test_mask_url_masks_addresses_encoded_or_not_and_keeps_the_rest():
    from ace_admin.reports.views import mask_url

    assert mask_url("https://x.example/p?email=ada%40example.org&a=1") == "https://x.example/p?email=a***@example.org&a=1"
    assert mask_url("https://x.example/u/bob@example.org/") == "https://x.example/u/b***@example.org/"
    assert mask_url("https://x.example/plain") == "https://x.example/plain"
