"""The README's campaign recipe on the demo content sends a complete newsletter; the recipe as it used to be
(shared details left {}) is blocked by the preflight check instead of sending 25 broken emails."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ace_admin.campaigns import service
from ace_admin.models import Campaign, CampaignRun, DeliveryLog


@pytest.fixture
def demo(db):
    call_command("loaddata", "fixtures/demo.json", "fixtures/demo_campaigns.json", verbosity=0)
    return Campaign.objects.get(name="Demo newsletter (December)")


def test_the_demo_campaign_sends_a_complete_newsletter(demo, smtp_settings, run_on_commit):
    # The recipe: the demo campaign, "Once", a minute ahead; beat fires it (here: the same service call).
    run = run_on_commit(service.start_run, demo, trigger="schedule")
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.findings == []
    assert run.sent == 25
    assert len(smtp_settings.messages) == run.sent
    for received in smtp_settings.messages:
        assert received.message["Subject"] == "Open Learning news for December"
        html = received.html
        assert 'href=""' not in html and "Ten new courses in data science" in html
        assert "here is what happened on Open Learning this month" in html
        assert "https://learning.example.org/courses/" in html
        assert "Hello Learner " in html


def test_the_old_recipe_with_empty_shared_details_is_blocked(demo, smtp_settings, run_on_commit):
    broken = service.duplicate_campaign(demo)
    broken.context = {}
    broken.save()
    run = run_on_commit(service.start_run, broken, trigger="hand")
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    variables = {finding["variable"] for finding in run.findings}
    assert {"platform_name", "month", "catalog_url", "articles"} <= variables
    assert smtp_settings.messages == [] and not DeliveryLog.objects.filter(campaign_run=run).exists()
