"""Drafts and publishing in a real browser (issue 12): an editor's change is a draft that the editor cannot publish
(no button, and a forged POST is refused); a manager reviews it rendered side by side and publishes it; a scheduled
publish shows on the template's page and goes live when its time comes."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ace_admin.content import publishing
from ace_admin.groups import EDITORS, MANAGERS
from ace_admin.models import PublishingEvent, Template
from tests.e2e.conftest import STAFF_PASSWORD, browser, demo_content, live_url, login, page  # noqa: F401
from tests.factories import StaffFactory

SUBJECT = "demo/edx_ace/newsletter/email/subject.txt"


def _template():
    return Template.objects.get(name=SUBJECT, language="fr")


def _edit_as_editor(page, live_url, template):  # noqa: F811
    StaffFactory(username="eddie", password=STAFF_PASSWORD, role=EDITORS)
    login(page, live_url, "eddie")
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    assert page.locator("#ace-save-and-publish").count() == 0  # editors get no publish button
    page.locator(".ace-editor .CodeMirror").first.wait_for()  # a text part opens in the source editor
    page.evaluate("text => document.querySelector('.ace-editor').aceEditor.codemirror().setValue(text)",
                  "Brouillon : {{ platform_name }} en {{ month }}")
    page.click("input[name=_continue]")
    page.locator("ul.messagelist li.info").filter(has_text="draft").wait_for()


def test_editor_drafts_and_cannot_publish_then_a_manager_publishes(page, live_url, demo_content,  # noqa: F811
                                                                     screenshot_dir):
    template = _template()
    published_before = template.content
    _edit_as_editor(page, live_url, template)
    template.refresh_from_db()
    assert template.content == published_before and template.draft_content.startswith("Brouillon")

    page.click("text=review and publish")
    page.locator("#ace-version-status").filter(has_text="draft").wait_for()
    assert page.locator("#ace-publish-form").count() == 0
    # A forged publish POST with the editor's session and a valid CSRF token: refused by the server.
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(page.url, form={"action": "publish", "csrfmiddlewaretoken": csrf},
                                 headers={"Referer": page.url, "X-CSRFToken": csrf})
    assert response.status == 403
    template.refresh_from_db()
    assert template.content == published_before

    page.context.clear_cookies()
    StaffFactory(username="maria", password=STAFF_PASSWORD, role=MANAGERS)
    login(page, live_url, "maria")
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    page.click("text=review and publish")
    page.locator("#ace-publish-form").wait_for()  # the review page has loaded
    frames = page.locator(".ace-side-by-side iframe[sandbox]")
    assert frames.count() == 2, page.locator(".ace-side-by-side").inner_text()  # published and draft, side by side
    assert "Brouillon" in page.locator(".ace-rendered[data-label='this version']").inner_text()
    page.screenshot(path=str(screenshot_dir / "publishing-review.png"), full_page=True)
    page.click("#ace-publish-form input[type=submit]")
    page.locator("ul.messagelist li.success").filter(has_text="is published").wait_for()
    template.refresh_from_db()
    assert template.content.startswith("Brouillon") and template.draft_content is None
    page.goto(live_url("/admin/ace_admin/publishingevent/"))
    assert "maria" in page.locator("#result_list").inner_text()
    assert list(PublishingEvent.objects.values_list("action", "username")) == [("publish", "maria")]
    assert page.log.errors == [] and page.log.csp_violations == []


def test_scheduled_publish_is_shown_and_goes_live_at_its_time(page, live_url, demo_content):  # noqa: F811
    template = _template()
    manager = StaffFactory(username="maria", password=STAFF_PASSWORD, role=MANAGERS)
    publishing.save_draft(template, "Plus tard : {{ month }}", manager)
    login(page, live_url, "maria")
    number = template.revisions.order_by("-number").first().number
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/revisions/{number}/"))
    when = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.fill("#ace-publish-when", when.strftime("%Y-%m-%dT%H:%M"))
    page.click("#ace-schedule-form input[type=submit]")
    page.locator("ul.messagelist li.success").filter(has_text="will be published").wait_for()
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    assert f"Scheduled: version {number}" in page.locator(".ace-scheduled").inner_text()

    assert publishing.publish_due(now=when + timedelta(minutes=1)) == [(template.pk, "published")]
    page.reload()
    assert page.locator(".ace-scheduled").count() == 0
    assert f"Published: version {number} is sent." in page.locator(".field-publishing_status").inner_text()
    template.refresh_from_db()
    assert template.content == "Plus tard : {{ month }}"
    assert [action for action, in PublishingEvent.objects.order_by("id").values_list("action")] == [
        "schedule", "scheduled_publish"]
