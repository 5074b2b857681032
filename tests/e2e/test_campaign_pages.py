"""The campaign form and the run page in Chromium: live audience figures, only the chosen schedule's fields,
and a run page that follows the run from running to done with no stale field or button (strict CSP)."""

from __future__ import annotations

from ace_admin.models import AudienceMember, CampaignRun, OptOut
from tests.e2e.conftest import admin_page, browser, live_url, page, staff_user  # noqa: F401
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    CampaignRunFactory,
    DeliveryLogFactory,
    MessageTypeFactory,
)


def test_the_campaign_form_shows_audience_figures_and_only_the_schedule_fields(admin_page, live_url,  # noqa: F811
                                                                             screenshot_dir):
    message_type = MessageTypeFactory(app_label="tests", name="greeting", category="marketing")
    audience = AudienceFactory(name="Twelve")
    for number in range(1, 13):
        AudienceMember.objects.create(audience=audience, email=f"p{number}@example.org",
                                      language="fr" if number <= 2 else "")
    OptOut.objects.create(email="p3@example.org", category="marketing")
    campaign = CampaignFactory(name="Figures", message_type=message_type, audience=audience, language="en")
    admin_page.goto(live_url(f"/admin/ace_admin/campaign/{campaign.pk}/change/"))
    summary = admin_page.locator('#ace-audience-figures [data-figure="summary"]')
    summary.filter(has_text="12 people").wait_for()
    text = summary.inner_text()
    assert "en: 10, fr: 2" in text and "1 opted out" in text and "0 suppressed" in text and "11 messages" in text
    # "By hand": no time fields; "Every N": every and unit only; "Calendar": the calendar only.
    assert admin_page.locator("#id_run_at_0").is_hidden() and admin_page.locator("#id_every").is_hidden()
    assert admin_page.locator("#id_schedule").is_visible()
    admin_page.select_option("#id_schedule", "interval")
    assert admin_page.locator("#id_every").is_visible() and admin_page.locator("#id_period").is_visible()
    assert admin_page.locator("#id_run_at_0").is_hidden() and admin_page.locator("#id_cron_hour").is_hidden()
    admin_page.select_option("#id_schedule", "crontab")
    assert admin_page.locator("#id_cron_hour").is_visible() and admin_page.locator("#id_every").is_hidden()
    admin_page.select_option("#id_schedule", "once")
    assert admin_page.locator("#id_run_at_0").is_visible() and admin_page.locator("#id_cron_hour").is_hidden()
    admin_page.screenshot(path=str(screenshot_dir / "campaign-form.png"), full_page=True)
    assert admin_page.log.csp_violations == [] and admin_page.log.errors == []


def test_the_run_page_follows_the_run_from_running_to_done(admin_page, live_url, screenshot_dir):  # noqa: F811
    message_type = MessageTypeFactory(app_label="tests", name="greeting")
    run = CampaignRunFactory(campaign=CampaignFactory(name="Live", message_type=message_type), recipients=3,
                             status=CampaignRun.RUNNING)
    admin_page.goto(live_url(f"/admin/ace_admin/campaignrun/{run.pk}/change/"))
    box = admin_page.locator("#ace-run-progress")
    assert box.locator('[data-field="status_label"]').inner_text() == "Running"
    assert admin_page.get_by_role("button", name="Pause").is_visible()
    assert admin_page.locator('input[type=submit][name="_save"]').count() == 0  # read only: no Save buttons
    # The run goes on and ends while the page is open.
    for number in range(3):
        DeliveryLogFactory(campaign_run=run, send_uuid=run.send_uuid, status="sent",
                           recipient_address=f"p{number}@example.org")
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.DONE, sent=3)
    box.locator('[data-field="status_label"]', has_text="Done").wait_for()
    assert box.locator('[data-field="sent"]').inner_text() == "3"
    assert box.locator('[data-field="done"]').inner_text() == "3"
    assert box.locator('[data-field="finished_at"]').inner_text() != "—" or run.finished_at is None
    for name in ("Pause", "Resume", "Cancel the run"):
        assert admin_page.get_by_role("button", name=name).is_hidden(), name
    assert "Running" not in admin_page.locator("#content").inner_text()
    link = admin_page.get_by_role("link", name="This run's rows in the delivery log")
    link.click()
    admin_page.wait_for_url(f"**/deliverylog/?q={run.send_uuid}")
    assert admin_page.locator("#result_list tbody tr").count() == 3
    admin_page.screenshot(path=str(screenshot_dir / "campaign-run-done.png"), full_page=True)
    assert admin_page.log.csp_violations == [] and admin_page.log.errors == []
