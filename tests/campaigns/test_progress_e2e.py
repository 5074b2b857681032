"""The run page's progress bar follows a running campaign in a real browser (polling, no inline script)."""

from __future__ import annotations

import os
import uuid

import pytest

from ace_admin.models import CampaignRun, DeliveryLog
from tests.campaigns.conftest import make_audience, make_campaign
from tests.e2e.conftest import CHROMIUM, admin_page, browser, live_url, page, staff_user  # noqa: F401
from tests.factories import CampaignRunFactory, MessageTypeFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"browser test skipped: {CHROMIUM} not found"),
]


def _row(run, number, status):
    return DeliveryLog(message_uuid=uuid.uuid4(), send_uuid=run.send_uuid, campaign_run=run, app_label="tests",
                       message_name="greeting", recipient_id=str(number), recipient_address=f"p{number}@example.org",
                       channel_type="email", status=status)


def test_the_progress_bar_moves_while_the_run_goes_on(admin_page, live_url):  # noqa: F811 (fixtures)
    greeting = MessageTypeFactory(app_label="tests", name="greeting")
    run = CampaignRunFactory(campaign=make_campaign(greeting, make_audience(4)), recipients=4)
    DeliveryLog.objects.bulk_create([_row(run, 1, "sent"), _row(run, 2, "sent"), _row(run, 3, "failed"),
                                     _row(run, 4, "sending")])

    admin_page.goto(live_url(f"/admin/ace_admin/campaignrun/{run.pk}/change/"))
    bar = admin_page.locator(".ace-progress-bar")
    admin_page.wait_for_function("document.querySelector('.ace-progress-bar').style.width === '75%'")
    assert admin_page.locator('[data-field="sent"]').inner_text() == "2"
    assert admin_page.locator('[data-field="failed"]').inner_text() == "1"

    # The last message goes out and the run ends: the page follows without a reload.
    DeliveryLog.objects.filter(campaign_run=run, status="sending").update(status="sent")
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.DONE)
    # The bar can reach 100% on a poll that still sees the run "running" (the two updates above are separate):
    # wait for the state the assertions need, the run done, not just for the bar.
    admin_page.wait_for_function("document.querySelector('.ace-progress-bar').style.width === '100%' && "
                                 "document.querySelector('[data-field=\"status_label\"]').innerText === 'Done'",
                                 timeout=15000)
    assert admin_page.locator('[data-field="status_label"]').inner_text() == "Done"
    assert admin_page.locator('[data-field="sent"]').inner_text() == "3"
    assert bar.get_attribute("style") == "width: 100%;"
    assert admin_page.log.errors == []
