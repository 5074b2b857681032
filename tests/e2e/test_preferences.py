"""Browser test (real Chromium): a recipient follows the links of a marketing email to the preference page,
switches a category off and saves; the next campaign send to them is denied. Also without JavaScript."""

from __future__ import annotations

import re

import pytest

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from tests.factories import AudienceFactory, AudienceMemberFactory, CampaignFactory, MessageTypeFactory, TemplateFactory

pytestmark = pytest.mark.e2e

APP = "privacy_e2e"
BODY = ('<p>Hello</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a> · '
        '<a href="{{ preferences_url }}">Email preferences</a></p>')


@pytest.fixture
def newsletter(transactional_db, settings, live_server):
    """Two marketing message types with DB templates; links in emails point at the live server."""
    from ace_admin import stamp

    settings.ACE_PUBLIC_BASE_URL = live_server.url
    stamp.bump_templates()
    types = {name: MessageTypeFactory(app_label=APP, name=name, category=category)
             for name, category in (("news", "newsletter"), ("offers", "offers"))}
    for name in types:
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/subject.txt", content=f"{name} subject")
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/body.html", content=BODY)
    yield types
    stamp.bump_templates()


def send(name: str, email="ann@example.com", language=None):
    from django.core import mail

    before = len(mail.outbox)
    [outcome] = ace.send(Message(app_label=APP, name=name, recipient=Recipient(7, email), language=language,
                                 context={}), limit_to_channels=[ChannelType.EMAIL])
    return outcome, (mail.outbox[before] if len(mail.outbox) > before else None)


def link(email, text: str) -> str:
    html = next(content for content, kind in email.alternatives if kind == "text/html")
    return re.search(rf'<a href="([^"]+)">{text}</a>', html)[1]


def run_campaign(message_type, emails):
    """A campaign of ``message_type`` to ``emails``, run now; returns its delivery-log rows by address."""
    from django.core import mail

    from ace_admin.campaigns import tasks
    from ace_admin.models import DeliveryLog

    audience = AudienceFactory(name=f"list for {message_type.name}")
    for email in emails:
        AudienceMemberFactory(audience=audience, email=email, lms_user_id="7" if "ann" in email else "")
    campaign = CampaignFactory(name=f"campaign {message_type.name}", message_type=message_type,
                               audience=audience)
    before = len(mail.outbox)
    run = tasks.start_run(campaign, trigger="hand")  # no surrounding transaction: queued and run at once
    rows = {row.recipient_address: row for row in DeliveryLog.objects.filter(campaign_run=run)}
    return rows, [address for message in mail.outbox[before:] for address in message.to]


def test_switch_a_category_off_and_the_next_campaign_send_is_denied(page, newsletter):
    _, email = send("news")
    page.goto(link(email, "Email preferences"))
    assert page.locator("html").get_attribute("lang") == "en"
    newsletter_box = page.get_by_label("Newsletter")  # each checkbox has a real <label>
    offers_box = page.get_by_label("Offers")
    assert newsletter_box.is_checked() and offers_box.is_checked()
    newsletter_box.uncheck()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("status").filter(has_text="Your choices are saved.").wait_for()
    page.reload()
    assert not page.get_by_label("Newsletter").is_checked() and page.get_by_label("Offers").is_checked()

    rows, delivered = run_campaign(newsletter["news"], ["ann@example.com", "bob@example.com"])
    assert delivered == ["bob@example.com"]
    assert rows["ann@example.com"].status == "denied"
    assert "opt-out #" in rows["ann@example.com"].policy and "category newsletter" in rows["ann@example.com"].policy
    rows, delivered = run_campaign(newsletter["offers"], ["ann@example.com"])
    assert delivered == ["ann@example.com"]  # the other category still reaches her
    assert page.log.csp_violations == [] and page.log.errors == []


def test_preference_page_works_without_javascript_and_unsubscribes_from_all(browser, newsletter, live_server):
    _, email = send("news", language="fr")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(link(email, "Email preferences"))
        assert page.locator("html").get_attribute("lang") == "fr"
        page.get_by_role("button", name="Me désabonner de tous les e-mails marketing").click()
        page.get_by_role("status").filter(has_text="Vous êtes désabonné de tous les e-mails marketing.").wait_for()
        assert not page.get_by_label("Newsletter").is_checked() and not page.get_by_label("Offers").is_checked()
    finally:
        context.close()
    assert send("offers")[1] is None and send("news")[1] is None


def test_unsubscribe_link_asks_first_then_confirms_without_redirect(page, newsletter):
    from ace_admin.models import OptOut

    _, email = send("news")
    response = page.goto(link(email, "Unsubscribe"))
    assert response.status == 200 and OptOut.objects.count() == 0  # opening the link changes nothing
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Yes, unsubscribe me").click()
    assert answer.value.status == 200 and answer.value.url == link(email, "Unsubscribe")
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert list(OptOut.objects.values_list("category", flat=True)) == ["newsletter"]
    assert send("news")[1] is None and send("offers")[1] is not None
