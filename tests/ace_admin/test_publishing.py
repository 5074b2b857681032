"""Drafts, review and publishing (issue 12, item 3): edits are drafts, only managers publish (now, scheduled, rollback),
a second person for transactional types when set, sends and campaigns use only published content, every step is in
the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.campaigns import tasks as campaign_tasks
from ace_admin.content import publishing
from ace_admin.content.tasks import publish_due_templates
from ace_admin.models import PublishingEvent, Template
from tests.campaigns.conftest import make_audience, make_campaign
from tests.conftest import load_demo
from tests.factories import EditorFactory, ManagerFactory, MessageTypeFactory, TemplateFactory

SUBJECT = "tests/edx_ace/greeting/email/subject.txt"
BODY = "tests/edx_ace/greeting/email/body.html"
UNSUBSCRIBE_BODY = '<p>Dear {{ first_name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'


@pytest.fixture
def greeting(db):
    return MessageTypeFactory(app_label="tests", name="greeting", category="marketing")


@pytest.fixture
def live(greeting, django_capture_on_commit_callbacks):
    """The greeting's subject, published as "Live {{ first_name }}" (version 1)."""
    with django_capture_on_commit_callbacks(execute=True):
        return TemplateFactory(name=SUBJECT, content="Live {{ first_name }}")


def send_greeting(address="ada@example.org"):
    message = Message(app_label="tests", name="greeting", recipient=Recipient(lms_user_id=1, email_address=address),
                      context={"first_name": "Ada", "code": "42", "site": "example.org"})
    [outcome] = ace.send(message, limit_to_channels=[ChannelType.EMAIL])
    return outcome


def change_form(template, content, **extra):
    return {"name": template.name, "language": template.language, "site": "", "content": content,
            "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0", **extra}


def events(template=None):
    rows = PublishingEvent.objects.order_by("id")
    if template is not None:
        rows = rows.filter(template=template)
    return list(rows.values_list("action", "revision", "previous_revision", "username"))


# --- drafts ------------------------------------------------------------------------------------------------------


def test_an_edit_is_a_draft_and_sends_keep_the_published_text(client, live, django_capture_on_commit_callbacks):
    editor = EditorFactory(username="eddie")
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:ace_admin_template_change", args=[live.pk]),
                               change_form(live, "Draft {{ first_name }}"))
    assert response.status_code == 302
    live.refresh_from_db()
    assert (live.content, live.draft_content, live.draft_author) == ("Live {{ first_name }}", "Draft {{ first_name }}",
                                                                     editor)
    assert list(live.revisions.values_list("number", "comment")) == [(2, "draft"), (1, "")]
    assert live.content_revision == 1
    send_greeting()
    assert mail.outbox[-1].subject == "Live Ada"
    # The editor's form shows the draft (what they work on), not the published text.
    page = client.get(reverse("admin:ace_admin_template_change", args=[live.pk])).content.decode()
    assert "Draft {{ first_name }}" in page and "review and publish" in page


def test_saving_the_draft_unchanged_records_nothing(client, live):
    client.force_login(EditorFactory())
    url = reverse("admin:ace_admin_template_change", args=[live.pk])
    client.post(url, change_form(live, "Draft one"))
    client.post(url, change_form(live, "Draft one"))
    live.refresh_from_db()
    assert live.revisions.count() == 2 and live.draft_content == "Draft one"
    client.post(url, change_form(live, "Live {{ first_name }}"))  # back to the published text: no draft left
    live.refresh_from_db()
    assert live.draft_content is None and live.revisions.count() == 2


def test_campaign_uses_only_published_content(live, greeting, django_capture_on_commit_callbacks):
    publishing.save_draft(live, "Unpublished draft", EditorFactory())
    campaign = make_campaign(greeting, make_audience(3))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_tasks.start_run(campaign)
    assert len(mail.outbox) == 3
    assert {message.subject for message in mail.outbox} == {"Live P1", "Live P2", "Live P3"}


def test_never_published_template_is_not_sent(client, greeting, django_capture_on_commit_callbacks):
    client.force_login(ManagerFactory())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:ace_admin_template_add"),
                    change_form(Template(name=SUBJECT), "New {{ first_name }}"))
    template = Template.objects.get(name=SUBJECT)
    assert not template.published
    send_greeting()
    assert mail.outbox[-1].subject == "Hello Ada, welcome to example.org"  # the file on disk


# --- publishing --------------------------------------------------------------------------------------------------


def test_manager_publishes_the_draft_and_the_audit_trail_says_so(client, live, django_capture_on_commit_callbacks):
    publishing.save_draft(live, "Second {{ first_name }}", EditorFactory(username="eddie"))
    manager = ManagerFactory(username="maria")
    client.force_login(manager)
    url = reverse("admin:ace_admin_template_revision", args=[live.pk, 2])
    page = client.get(url).content.decode()
    assert "Publish this draft" in page and "Live Ada" in page or "ace-side-by-side" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "publish"}).status_code == 302
    live.refresh_from_db()
    assert (live.content, live.draft_content, live.content_revision) == ("Second {{ first_name }}", None, 2)
    assert live.revisions.count() == 2  # publishing the draft's version records no new one
    send_greeting()
    assert mail.outbox[-1].subject == "Second Ada"
    assert events(live) == [("publish", 2, 1, "maria")]
    # The audit trail is visible read-only in the admin.
    audit = client.get(reverse("admin:ace_admin_publishingevent_changelist")).content.decode()
    assert "maria" in audit and live.name in audit
    entry = PublishingEvent.objects.get()
    assert client.post(reverse("admin:ace_admin_publishingevent_change", args=[entry.pk]), {"note": "x"}
                       ).status_code == 403
    assert client.get(reverse("admin:ace_admin_publishingevent_add")).status_code == 403


def test_editor_cannot_publish_whatever_the_page_showed(client, live, django_capture_on_commit_callbacks):
    editor = EditorFactory(username="eddie")
    client.force_login(editor)
    change = reverse("admin:ace_admin_template_change", args=[live.pk])
    with django_capture_on_commit_callbacks(execute=True):
        # "Save and publish" posted by hand: saved as a draft, not published.
        response = client.post(change, change_form(live, "Sneaky {{ first_name }}", _publish="1"), follow=True)
    assert "Only managers" in response.content.decode()
    revision = reverse("admin:ace_admin_template_revision", args=[live.pk, 2])
    assert client.post(revision, {"action": "publish"}).status_code == 403
    assert client.post(revision, {"action": "schedule", "when": "2099-01-01T10:00"}).status_code == 403
    client.post(reverse("admin:ace_admin_template_changelist"), {"action": "publish", "_selected_action": [live.pk]})
    with pytest.raises(PermissionDenied):
        publishing.publish(live, editor)
    live.refresh_from_db()
    assert live.content == "Live {{ first_name }}" and live.draft_content == "Sneaky {{ first_name }}"
    send_greeting()
    assert mail.outbox[-1].subject == "Live Ada"
    assert not PublishingEvent.objects.filter(action=PublishingEvent.PUBLISH).exists()


def test_save_and_publish_on_the_message_type_page(client, live, greeting, django_capture_on_commit_callbacks):
    client.force_login(ManagerFactory(username="maria"))
    data = {"app_label": "tests", "name": "greeting", "description": "", "category": "marketing", "enabled": "on",
            "from_address": "", "reply_to": "", "seed_addresses": "", "sample_context": "{}",
            "templates-TOTAL_FORMS": "1", "templates-INITIAL_FORMS": "1", "templates-MIN_NUM_FORMS": "0",
            "templates-MAX_NUM_FORMS": "1000", "templates-0-id": str(live.pk),
            "templates-0-message_type": str(greeting.pk),
            "templates-0-name": SUBJECT, "templates-0-language": "", "templates-0-site": "",
            "templates-0-content": "Inline {{ first_name }}"}
    url = reverse("admin:ace_admin_messagetype_change", args=[greeting.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    live.refresh_from_db()
    assert (live.content, live.draft_content) == ("Live {{ first_name }}", "Inline {{ first_name }}")
    data["templates-0-content"] = "Inline two {{ first_name }}"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {**data, "_publish": "1"}).status_code == 302
    live.refresh_from_db()
    assert (live.content, live.draft_content) == ("Inline two {{ first_name }}", None)
    send_greeting()
    assert mail.outbox[-1].subject == "Inline two Ada"


def test_second_person_for_transactional_types(live, greeting, settings, django_capture_on_commit_callbacks):
    settings.ACE_ADMIN_PUBLISH_REQUIRES_SECOND_PERSON = True
    greeting.transactional = True
    greeting.save()
    author, other = ManagerFactory(username="anna"), ManagerFactory(username="bert")
    publishing.save_draft(live, "Reset {{ first_name }}", author)
    with pytest.raises(publishing.PublishRefused, match="second person"):
        publishing.publish(live, author)
    with pytest.raises(publishing.PublishRefused, match="second person"):
        publishing.schedule(live, author, timezone.now() + timedelta(hours=1))
    live.refresh_from_db()
    assert live.content == "Live {{ first_name }}"
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish(live, other)
    send_greeting()
    assert mail.outbox[-1].subject == "Reset Ada"
    assert [row[0] for row in events(live)] == ["refused", "refused", "publish"]
    assert PublishingEvent.objects.filter(action="refused", username="anna").count() == 2


def test_second_person_is_not_needed_for_marketing_or_when_off(live, greeting, settings):
    settings.ACE_ADMIN_PUBLISH_REQUIRES_SECOND_PERSON = True
    author = ManagerFactory()
    publishing.save_draft(live, "News {{ first_name }}", author)
    assert publishing.publish(live, author).revision == 2  # marketing: not transactional


def test_rollback_goes_through_the_publish_path(client, live, django_capture_on_commit_callbacks):
    manager = ManagerFactory(username="maria")
    publishing.save_draft(live, "Two {{ first_name }}", manager)
    publishing.publish(live, manager)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:ace_admin_template_revision", args=[live.pk, 1]), {"action": "publish"})
    live.refresh_from_db()
    assert live.content == "Live {{ first_name }}" and live.content_revision == 3
    assert live.revisions.get(number=3).comment == "restored version 1"
    send_greeting()
    assert mail.outbox[-1].subject == "Live Ada"
    assert events(live) == [("publish", 2, 1, "maria"), ("rollback", 3, 2, "maria")]


def test_editor_restore_becomes_the_draft(client, live):
    manager = ManagerFactory()
    publishing.save_draft(live, "Two", manager)
    publishing.publish(live, manager)
    client.force_login(EditorFactory())
    client.post(reverse("admin:ace_admin_template_revision", args=[live.pk, 1]))  # "Restore as the draft"
    live.refresh_from_db()
    assert (live.content, live.draft_content) == ("Two", "Live {{ first_name }}")


def test_archive_and_unpublish_are_audited_and_need_a_manager(client, live, greeting):
    client.force_login(EditorFactory())
    changelist = reverse("admin:ace_admin_template_changelist")
    client.post(changelist, {"action": "archive", "_selected_action": [live.pk]})
    live.refresh_from_db()
    assert live.published and not live.archived
    client.force_login(ManagerFactory(username="maria"))
    client.post(changelist, {"action": "archive", "_selected_action": [live.pk]})
    live.refresh_from_db()
    assert not live.published and live.archived
    client.post(changelist + "?archived=yes", {"action": "unarchive", "_selected_action": [live.pk]})
    client.post(reverse("admin:ace_admin_messagetype_changelist"),
                {"action": "archive", "_selected_action": [greeting.pk]})
    assert [row[0] for row in events()] == ["archive", "unarchive", "archive"]
    assert PublishingEvent.objects.last().message_type == greeting


# --- scheduled publish -------------------------------------------------------------------------------------------


def test_scheduled_publish_fires_once_at_its_time(client, live, django_capture_on_commit_callbacks):
    manager = ManagerFactory(username="maria")
    publishing.save_draft(live, "Later {{ first_name }}", manager)
    client.force_login(manager)
    when = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    url = reverse("admin:ace_admin_template_revision", args=[live.pk, 2])
    client.post(url, {"action": "schedule", "when": when.strftime("%Y-%m-%dT%H:%M")})
    live.refresh_from_db()
    assert (live.publish_at, live.publish_revision, live.publish_scheduled_by) == (when, 2, manager)
    assert "Scheduled: version 2" in client.get(reverse("admin:ace_admin_template_change", args=[live.pk])
                                                ).content.decode()
    # The draft moves on after scheduling: the reviewed version 2 is what goes live.
    publishing.save_draft(live, "Even later", manager)
    assert publishing.publish_due(now=when - timedelta(minutes=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert publishing.publish_due(now=when + timedelta(seconds=30)) == [(live.pk, "published")]
        assert publishing.publish_due(now=when + timedelta(minutes=5)) == []
    live.refresh_from_db()
    assert (live.content, live.draft_content, live.publish_at) == ("Later {{ first_name }}", "Even later", None)
    send_greeting()
    assert mail.outbox[-1].subject == "Later Ada"
    assert [row[:2] for row in events(live)] == [("schedule", 2), ("scheduled_publish", 2)]


def test_scheduled_publish_task_and_a_refusal_at_its_time(live, greeting, settings):
    manager = ManagerFactory(username="maria")
    body = TemplateFactory(name=BODY, content=UNSUBSCRIBE_BODY)
    publishing.save_draft(body, UNSUBSCRIBE_BODY + "<p>more</p>", manager)
    publishing.schedule(body, manager, timezone.now() + timedelta(minutes=1))
    Template.objects.filter(pk=body.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    # Between scheduling and the time, the manager lost the publish permission: refused, recorded, not retried.
    manager.groups.clear()
    outcome = publish_due_templates.apply().get()
    assert [tuple(row) for row in outcome] == [(body.pk, "The manager who scheduled it can no longer publish.")]
    body.refresh_from_db()
    assert body.content == UNSUBSCRIBE_BODY and body.publish_at is None
    assert [row[0] for row in events(body)] == ["schedule", "refused"]


def test_schedule_needs_a_future_time(live):
    manager = ManagerFactory()
    publishing.save_draft(live, "x", manager)
    with pytest.raises(publishing.PublishRefused, match="future"):
        publishing.schedule(live, manager, timezone.now() - timedelta(minutes=1))


# --- the unsubscribe link (item 6) -------------------------------------------------------------------------------


def test_marketing_body_without_unsubscribe_link_is_refused(greeting, settings):
    manager = ManagerFactory()
    body = TemplateFactory(name=BODY, content=UNSUBSCRIBE_BODY)
    publishing.save_draft(body, "<p>Dear {{ first_name }}, no way out.</p>", manager)
    with pytest.raises(publishing.PublishRefused, match="no unsubscribe link"):
        publishing.publish(body, manager)
    body.refresh_from_db()
    assert body.content == UNSUBSCRIBE_BODY
    settings.ACE_ADMIN_REQUIRE_UNSUBSCRIBE_LINK = False
    outcome = publishing.publish(body, manager)
    assert outcome.revision == 2 and "no unsubscribe link" in outcome.warnings[0]
    assert "no unsubscribe link" in PublishingEvent.objects.filter(action="publish").get().note


def test_layout_footer_link_counts_and_transactional_needs_none(greeting):
    manager = ManagerFactory()
    body = TemplateFactory(name=BODY, content=UNSUBSCRIBE_BODY)
    publishing.save_draft(body, '{% extends "ace/email/base.html" %}{% block content %}Hi{% endblock %}', manager)
    publishing.publish(body, manager)  # the demo layout's footer has the link
    receipt = MessageTypeFactory(app_label="shop", name="receipt", transactional=True)
    receipt_body = TemplateFactory(name="shop/edx_ace/receipt/email/body.html", content="<p>Receipt</p>")
    publishing.save_draft(receipt_body, "<p>Your receipt</p>", manager)
    assert publishing.publish(receipt_body, manager).warnings == []
    assert receipt.templates.get().content == "<p>Your receipt</p>"


def test_demo_footer_shows_the_links_only_on_marketing_email(db):
    demo = load_demo()
    ace.send(Message(app_label="demo", name="newsletter", language="fr",
                     recipient=Recipient(lms_user_id=7, email_address="ada@example.org"),
                     context=demo["newsletter"].sample_context))
    ace.send(Message(app_label="demo", name="password_reset",
                     recipient=Recipient(lms_user_id=7, email_address="ada@example.org"),
                     context=demo["password_reset"].sample_context))
    newsletter, reset = mail.outbox[-2], mail.outbox[-1]
    html = newsletter.alternatives[0][0]
    assert "Se désabonner" in html and "/unsubscribe/" in html
    assert "Unsubscribe" not in reset.alternatives[0][0]
