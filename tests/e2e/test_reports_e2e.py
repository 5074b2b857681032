"""The dashboard (the admin's landing page) and a run report in Chromium: charts drawn, tables beside them, and
not one Content-Security-Policy violation (the pages run no inline script)."""

from __future__ import annotations

from ace_admin.preview.csp import ADMIN_POLICY
from tests.reports.conftest import build_run


def test_dashboard_and_run_report_show_charts_without_csp_violation(admin_page, live_url, screenshot_dir):
    run, _ = build_run()
    response = admin_page.goto(live_url("/admin/"))
    assert response.headers["content-security-policy"] == ADMIN_POLICY
    dashboard = admin_page.locator("section.ace-dashboard")
    dashboard.wait_for()
    assert dashboard.locator("svg.ace-chart").count() == 2
    assert dashboard.locator("svg.ace-chart[role=img] > title").first.text_content().startswith("The last 7 days")
    assert dashboard.locator("#ace-table-runs").inner_text().count(run.campaign.name) == 1
    admin_page.screenshot(path=str(screenshot_dir / "reports-dashboard.png"), full_page=True)

    admin_page.click("a.ace-all-reports")
    admin_page.click(f"a[href$='/run/{run.pk}/']")
    admin_page.locator("#ace-table-funnel").wait_for()
    charts = admin_page.locator("svg.ace-chart")
    assert charts.count() == 2
    assert charts.first.bounding_box()["width"] > 200  # drawn, with the stylesheet from static files applied
    assert "90.00%" in admin_page.locator("#ace-table-funnel").inner_text()
    assert "learn.example.org/course" in admin_page.locator("#ace-table-links").inner_text()
    admin_page.screenshot(path=str(screenshot_dir / "reports-run.png"), full_page=True)
    admin_page.wait_for_timeout(300)
    assert admin_page.log.csp_violations == []
    assert admin_page.log.errors == []
