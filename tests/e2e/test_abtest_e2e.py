"""An A/B run's page in Chromium: the test's state and each variant's figures, then a manager sends B to the rest
and the page follows the run to Done, the sentence naming the winner, the choice buttons gone (strict CSP)."""

from __future__ import annotations

from collections import Counter

from ace_admin.campaigns import service
from ace_admin.content.copying import copy_message_type
from ace_admin.models import Campaign, CampaignRun, CampaignVariant, Template
from tests.campaigns.conftest import make_audience, make_campaign
from tests.e2e.conftest import admin_page, browser, live_url, page, staff_user  # noqa: F401
from tests.factories import MessageTypeFactory


def test_a_manager_sends_the_variant_to_the_rest_and_the_page_follows(admin_page, live_url, staff_user,  # noqa: F811
                                                                      smtp_settings, screenshot_dir,
                                                                      django_capture_on_commit_callbacks):
    greeting = MessageTypeFactory(app_label="tests", name="greeting", category="marketing")
    variant = copy_message_type(greeting, staff_user)
    subject = Template.objects.get(message_type=variant, part="subject.txt")
    subject.content = "Last chance, {{ first_name }}"
    subject.save(author=staff_user)
    campaign = make_campaign(greeting, make_audience(200), ab_test_percent=30, ab_holdout_percent=10,
                             ab_winner_rule=Campaign.AB_RULE_CLICK, ab_wait_hours=24)
    CampaignVariant.objects.create(campaign=campaign, label="B", message_type=variant, note="urgent subject")
    with django_capture_on_commit_callbacks(execute=True):
        run = service.start_run(campaign)
    tested = len(smtp_settings.messages)

    admin_page.goto(live_url(f"/admin/ace_admin/campaignrun/{run.pk}/change/"))
    box = admin_page.locator("#ace-run-progress")
    ab = box.locator('[data-field="ab_text"]')
    assert "A/B test of A, B on 30% of the audience" in ab.inner_text()
    assert "waiting for the A/B test's winner" in box.locator('[data-field="waiting_text"]').inner_text()
    table = admin_page.locator("#ace-ab table")
    assert "urgent subject" in table.locator('tr[data-variant="B"]').inner_text()
    admin_page.screenshot(path=str(screenshot_dir / "ab-run-testing.png"), full_page=True)

    admin_page.get_by_role("button", name="Send B to the rest now").click()
    admin_page.locator(".messagelist", has_text="Variant B is being sent to the rest").wait_for()
    box.locator('[data-field="status_label"]', has_text="Done").wait_for()
    assert "B picked by e2e-staff" in box.locator('[data-field="ab_text"]').inner_text()
    for name in ("Send A to the rest now", "Send B to the rest now", "Pause"):
        assert admin_page.get_by_role("button", name=name).is_hidden(), name
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.winner == "B"
    received = Counter(to for message in smtp_settings.messages for to in message.rcpt_tos)
    assert set(received.values()) == {1} and len(received) == 200 - run.held_out > tested
    admin_page.screenshot(path=str(screenshot_dir / "ab-run-done.png"), full_page=True)
    assert admin_page.log.csp_violations == [] and admin_page.log.errors == []
