"""The run page's "Retry these N" in a real browser: confirm, the messages go out again, the figures follow."""

from __future__ import annotations

import os

import pytest

from ace_admin.campaigns import tasks
from ace_admin.models import CampaignRun
from tests.campaigns.conftest import make_audience, make_campaign
from tests.e2e.conftest import CHROMIUM, admin_page, browser, live_url, page, staff_user  # noqa: F401
from tests.factories import MessageTypeFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"browser test skipped: {CHROMIUM} not found"),
]


def test_retry_button_sends_the_group_again_and_the_counts_follow(admin_page, live_url, smtp_settings,  # noqa: F811
                                                                 settings):
    settings.ACE_CAMPAIGN_MAX_ATTEMPTS = 1
    for address in ("p2@example.org", "p3@example.org"):
        smtp_settings.refuse_rcpt(address, "451 4.3.0 Try again later", times=1)
    greeting = MessageTypeFactory(app_label="tests", name="greeting", category="marketing")
    run = tasks.start_run(make_campaign(greeting, make_audience(4)))  # eager Celery: done when it returns
    run.refresh_from_db()
    assert (run.status, run.sent, run.failed) == (CampaignRun.DONE, 2, 2)

    admin_page.goto(live_url(f"/admin/ace_admin/campaignrun/{run.pk}/change/"))
    assert admin_page.locator('[data-field="failed"]').inner_text() == "2"
    button = admin_page.get_by_role("button", name="Retry these 2")
    prompts = []
    admin_page.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.accept()))
    button.click()
    # The POST redirects to the page again: wait for the new page (the old one's nodes go away meanwhile).
    admin_page.wait_for_selector(".messagelist")
    admin_page.wait_for_function("""() => {
        const field = (name) => document.querySelector(`[data-field="${name}"]`);
        return field("sent") && field("sent").innerText === "4" && field("status_label").innerText === "Done";
    }""")
    assert prompts == ["Send these 2 message(s) again, in this run?"]
    assert admin_page.locator('[data-field="failed"]').inner_text() == "0"
    assert "2 messages queued again in this run" in admin_page.locator(".messagelist").inner_text()
    assert "Retried 2 messages" in admin_page.locator(".ace-retries").inner_text()
    assert admin_page.get_by_role("button", name="Retry these 2").count() == 0
    assert sorted(rcpt for item in smtp_settings.messages for rcpt in item.rcpt_tos) == [
        f"p{n}@example.org" for n in range(1, 5)]
    assert admin_page.log.errors == [] and admin_page.log.csp_violations == []
