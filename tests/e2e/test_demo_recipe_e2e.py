"""The README's campaign recipe ("Where it runs"), followed in Chromium on the demo content: a marketing manager
opens *Demo newsletter (December)* from the campaign list, ticks "Scheduled", sets "When" to once and "Send at" a
minute ahead with the form's own date and time shortcuts, and saves; the scheduler entry that save made is fired
the way beat fires it; every person of *Demo learners* receives one complete newsletter, and the run page says Done."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.schedulers import ModelEntry
from playwright.sync_api import expect

from ace_admin.models import Campaign, CampaignRun, DeliveryLog
from tests.e2e.conftest import login
from tests.factories import PASSWORD, ManagerFactory

CAMPAIGN = "Demo newsletter (December)"
AUDIENCE = "Demo learners (25 made-up people)"
ARTICLES = [("Ten new courses in data science", "https://learning.example.org/news/data-science/"),
            ("Meet our 2026 learner of the year", "https://learning.example.org/news/learner-of-the-year/")]
CATALOG = "https://learning.example.org/courses/"
LEARNERS = {f"learner{number}@example.org": f"Learner {number}" for number in range(1, 26)}


@pytest.fixture
def demo(transactional_db, settings, live_server, smtp_settings):
    """What `make demo` loads (every fixtures/*.json, sorted, in one loaddata), links in emails pointing at the
    site (DEMO_ENV's ACE_PUBLIC_BASE_URL). The demo routes marketing email to file_email, which the test
    settings do not enable: the route is skipped and the email goes to the SMTP server instead, same rendering."""
    fixtures = sorted(str(path) for path in (Path(django_settings.BASE_DIR) / "fixtures").glob("*.json"))
    call_command("loaddata", *fixtures, verbosity=0)
    settings.ACE_PUBLIC_BASE_URL = live_server.url
    return smtp_settings


def test_the_readme_recipe_names_what_the_test_clicks():
    """The recipe's words are the labels the browser test below uses: renaming one in the UI fails that test,
    rewording the README fails this one."""
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    recipe = " ".join(readme.split("**Where it runs.**", 1)[1].split("\n\n", 1)[0].split())
    for words in ("open *Campaigns* › *Demo newsletter (December)*", "*Demo learners (25 made-up people)*",
                  "tick *Scheduled*", 'set *When* to "Once, at a given time"', "*Send at* a minute ahead",
                  '"Today" and "Now" links', "and **Save**", "25 complete newsletters", "*Done* with 25 sent"):
        assert words in recipe, words


def _a_minute_ahead(page) -> datetime.datetime:
    """Fill "Send at" as a person would: "Today" and "Now" (the site's time), then one minute more."""
    row = page.locator(".form-row.field-run_at")
    date, time = page.locator("#id_run_at_0"), page.locator("#id_run_at_1")
    for _attempt in range(2):  # again if midnight passed between the two clicks
        row.get_by_role("link", name="Now").click()
        row.get_by_role("link", name="Today").click()
        shown = datetime.datetime.strptime(f"{date.input_value()} {time.input_value()}", "%Y-%m-%d %H:%M:%S")
        site_now = timezone.localtime().replace(tzinfo=None)
        if abs(shown - site_now) < datetime.timedelta(minutes=10):
            break
    else:
        pytest.fail(f"The Today/Now shortcuts gave {shown}, the site's time is {site_now}")
    wanted = shown.replace(second=0) + datetime.timedelta(minutes=1)  # the next whole minute
    date.fill(wanted.strftime("%Y-%m-%d"))
    time.fill(wanted.strftime("%H:%M:%S"))
    return timezone.make_aware(wanted)


def _fire_like_beat(campaign) -> None:
    """What django-celery-beat's scheduler does when the campaign's entry is due: the entry made from the
    ``PeriodicTask`` row, its task applied with the row's args, kwargs and options (eager in the tests)."""
    row = campaign.periodic_task
    entry = ModelEntry(row, app=current_app)
    options = {**entry.options, "headers": {**entry.options.get("headers", {}), "celery_beat_task": True}}
    result = current_app.tasks[entry.task].apply_async(entry.args, entry.kwargs, **options)
    result.get(propagate=True)  # a failing task fails the test


def test_the_readme_recipe_sends_a_complete_newsletter_to_every_demo_learner(demo, page, live_url, live_server,
                                                                            screenshot_dir):
    manager = ManagerFactory(username="marketing", first_name="Mia")
    login(page, live_url, manager.username, PASSWORD)

    # "in the admin, open the campaign Demo newsletter (December)"
    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    page.wait_for_url("**/admin/ace_admin/campaign/")
    page.locator("#result_list").get_by_role("link", name=CAMPAIGN, exact=True).click()
    page.wait_for_url("**/admin/ace_admin/campaign/*/change/")
    # "(demo.newsletter to Demo learners, with its shared details: platform name, month, articles, catalogue link)"
    expect(page.locator("#select2-id_audience-container")).to_have_text(AUDIENCE)
    expect(page.locator("#select2-id_message_type-container")).to_contain_text("newsletter")
    shared = page.get_by_label("Shared details").input_value()
    for key in ("platform_name", "month", "articles", "catalog_url"):
        assert f'"{key}"' in shared, key
    page.locator('#ace-audience-figures [data-figure="summary"]').filter(has_text="25 people").wait_for()

    # 'tick Scheduled, set When to "Once, at a given time" and Send at a minute ahead (...), and Save'
    scheduled = page.get_by_label("Scheduled", exact=True)
    assert not scheduled.is_checked()  # the demo campaign comes unscheduled
    scheduled.check()
    page.get_by_label("When:", exact=True).select_option(label="Once, at a given time")
    expect(page.locator(".form-row.field-run_at label").first).to_have_text("Send at:")
    run_at = _a_minute_ahead(page)
    page.screenshot(path=str(screenshot_dir / "demo-recipe-form.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/ace_admin/campaign/")
    page.locator(".messagelist .success").filter(has_text=CAMPAIGN).wait_for()
    assert page.locator(".errornote").count() == 0

    # The save made the scheduler's entry: a one-off for that minute, naming the task beat will call.
    campaign = Campaign.objects.select_related("periodic_task__clocked").get(name=CAMPAIGN)
    assert campaign.enabled and campaign.schedule == Campaign.SCHEDULE_ONCE and campaign.run_at == run_at
    row = campaign.periodic_task
    assert row is not None and row.enabled and row.one_off and row.clocked.clocked_time == run_at
    assert row.task in current_app.tasks, row.task
    assert not campaign.runs.exists()  # nothing sent before beat fires

    _fire_like_beat(campaign)

    run = campaign.runs.get()
    assert run.trigger == "schedule" and run.status == CampaignRun.DONE and run.findings == []
    assert run.recipients == 25 and run.sent == 25
    received = demo.messages
    assert sorted(address for message in received for address in message.rcpt_tos) == sorted(LEARNERS)
    assert DeliveryLog.objects.filter(campaign_run=run, status="sent").count() == 25
    links = set()
    for message in received:
        (address,) = message.rcpt_tos
        first_name = LEARNERS[address]
        assert message.message["Subject"] == "Open Learning news for December"
        assert message.message["From"] == "Open Learning News <news@example.org>"
        html, text = message.html, message.text
        assert html and text
        assert 'href=""' not in html and "on  this" not in html and "for </" not in html
        assert f"Hello {first_name}, here is what happened on Open Learning this month." in html
        assert "News for December" in html and "<title>Open Learning news for December</title>" in html
        for title, url in ARTICLES:
            assert f'href="{url}"' in html and title in html
            assert title in text and url in text
        assert f'href="{CATALOG}"' in html and f"Browse all courses: {CATALOG}" in text
        assert f"Hello {first_name}, here is what happened on Open Learning this month." in text
        assert "subscribed to news from Open Learning." in html
        assert "None" not in html and "None" not in text
        unsubscribe = re.findall(r'<a href="([^"]+)"[^>]*>Unsubscribe</a>', html)
        assert len(unsubscribe) == 1 and unsubscribe[0].startswith(live_server.url + "/"), unsubscribe
        assert f"<{unsubscribe[0]}>" in message.message["List-Unsubscribe"]
        assert f"Unsubscribe: {unsubscribe[0]}" in text  # the plain-text part too
        links.add(unsubscribe[0])
    assert len(links) == 25  # one person's link each
    # The link works: it opens the site's unsubscribe page (a GET only asks; nothing is changed here).
    answer = page.goto(sorted(links)[0])
    assert answer.ok
    expect(page.get_by_role("button", name="Yes, unsubscribe me")).to_be_visible()

    # The run, from the campaign page's run history: Done, 25 sent, no control left over from the run.
    page.goto(live_url("/admin/ace_admin/campaign/"))
    page.locator("#result_list").get_by_role("link", name=CAMPAIGN, exact=True).click()
    page.wait_for_url(f"**/admin/ace_admin/campaign/{campaign.pk}/change/")
    history = page.locator("#ace-campaign-story table tbody tr")
    expect(history).to_have_count(1)
    assert history.locator("td").nth(2).inner_text() == "Done"
    assert history.locator("td").nth(4).inner_text() == "25"
    history.get_by_role("link").first.click()
    page.wait_for_url(f"**/admin/ace_admin/campaignrun/{run.pk}/change/")
    box = page.locator("#ace-run-progress")
    box.locator('[data-field="status_label"]', has_text="Done").wait_for()
    assert box.locator('[data-field="sent"]').inner_text() == "25"
    assert box.locator('[data-field="done"]').inner_text() == "25"
    assert box.locator('[data-field="total"]').inner_text() == "25"
    assert box.locator('[data-field="failed"]').inner_text() == "0"
    assert box.locator('[data-field="finished_at"]').inner_text() not in ("", "—")
    # No error box left over (an empty one drew a red frame: the admin's .errornote outranked [hidden]).
    expect(box.locator('[data-field="error"]')).to_be_hidden()
    for name in ("Pause", "Resume", "Cancel the run"):
        assert page.get_by_role("button", name=name).is_hidden(), name
    assert "Running" not in page.locator("#content").inner_text()
    page.screenshot(path=str(screenshot_dir / "demo-recipe-run-done.png"), full_page=True)
    assert page.log.csp_violations == [] and page.log.errors == []
