"""The admin marketing staff use: editors per part, invalid templates refused, history, actions, read-only log."""

import json
import uuid
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.urls import reverse

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from ace_admin import stamp
from ace_admin.models import ChannelRoute, DeliveryLog, MessageType, PolicyRule, Template, TemplateRevision
from tests.factories import MessageTypeFactory, StaffFactory, SuperuserFactory, TemplateFactory

GREETING = "tests/edx_ace/greeting/email"


@pytest.fixture
def admin_user(db):
    return SuperuserFactory(username="boss")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def greet(address="ada@example.org", language=None):
    msg = Message(app_label="tests", name="greeting", recipient=Recipient(lms_user_id=1, email_address=address),
                  language=language, context={"first_name": "Ada", "code": "42", "site": "example.org"})
    [outcome] = ace.send(msg, limit_to_channels=[ChannelType.EMAIL])
    return outcome


def inline_data(message_type, templates, **extra):
    """POST data for the message type change form with its templates inline."""
    data = {"app_label": message_type.app_label, "name": message_type.name, "description": message_type.description,
            "category": message_type.category, "enabled": "on", "from_address": "", "reply_to": "",
            "seed_addresses": "", "sample_context": json.dumps(message_type.sample_context),
            "templates-TOTAL_FORMS": str(len(templates)), "templates-INITIAL_FORMS": "0",
            "templates-MIN_NUM_FORMS": "0", "templates-MAX_NUM_FORMS": "1000"}
    initial = 0
    for index, template in enumerate(templates):
        if template.get("id"):
            initial += 1
        for key, value in template.items():
            data[f"templates-{index}-{key}"] = value
        data[f"templates-{index}-message_type"] = str(message_type.pk)
    data["templates-INITIAL_FORMS"] = str(initial)
    data.update(extra)
    return data


def test_message_type_page_opens_each_template_in_the_editor_it_allows(staff):
    greeting = MessageTypeFactory(app_label="tests", name="greeting", sample_context={"first_name": "Ada"})
    TemplateFactory(name=f"{GREETING}/body.html", content='{% extends "ace/email/base.html" %}'
                    "{% block content %}<p>Hi {{ first_name }}</p>{% endblock %}")
    TemplateFactory(name=f"{GREETING}/subject.txt", content="Hi {{ first_name }}", language="fr")
    html = staff.get(reverse("admin:ace_admin_messagetype_change", args=[greeting.pk])).content.decode()
    assert html.count('data-ace-mode="visual"') == 1  # the HTML fragment
    assert html.count('data-ace-mode="source"') == 2  # the subject, and the blank "add another" form
    config = html.split('data-config="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    config = json.loads(config.replace("&amp;", "&"))
    assert config["allowedContent"] is True and config["fullPage"] is False
    assert "Source" not in str(config["toolbar"])  # template syntax is edited in the source editor only
    assert '<option value="{{ first_name }}">first_name</option>' in html  # the picker
    assert html.index("Email · body.html") < html.index("Email · subject.txt")  # grouped by channel and part
    assert "Templates on disk (read-only)" in html and f"{GREETING}/head.html" in html
    assert Path(finders.find("ace_admin/editors/template_editor.js")).is_file()


def test_full_page_html_template_is_edited_as_source(staff):
    layout = TemplateFactory(name="ace/email/base.html", content="<html><body>{% block content %}"
                             "{% endblock %}</body></html>")
    html = staff.get(reverse("admin:ace_admin_template_change", args=[layout.pk])).content.decode()
    assert 'data-ace-mode="source"' in html and "ace-visual-text" not in html
    assert "A whole email document" in html  # the reason is shown


def test_invalid_template_is_refused_with_engine_message_and_line(staff):
    response = staff.post(reverse("admin:ace_admin_template_add"), {
        "name": f"{GREETING}/subject.txt", "language": "", "site": "", "published": "on",
        "content": "Hello\n{% if first_name %}{{ first_name }}", "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "Line 2" in errors and "endif" in errors
    assert Template.objects.count() == 0 and TemplateRevision.objects.count() == 0


def test_invalid_inline_template_saves_nothing(staff):
    greeting = MessageTypeFactory(app_label="tests", name="greeting", description="before")
    data = inline_data(greeting, [
        {"name": f"{GREETING}/subject.txt", "language": "", "site": "", "published": "on", "content": "Fine"},
        {"name": f"{GREETING}/body.html", "language": "", "site": "", "published": "on",
         "content": "<p>\n\n{{ first_name|nosuchfilter }}</p>"},
    ], description="after")
    response = staff.post(reverse("admin:ace_admin_messagetype_change", args=[greeting.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 3" in page and "nosuchfilter" in page
    greeting.refresh_from_db()
    assert greeting.description == "before" and Template.objects.count() == 0


def test_inline_save_records_author_and_next_send_uses_it(staff, admin_user, django_capture_on_commit_callbacks):
    greeting = MessageTypeFactory(app_label="tests", name="greeting")
    data = inline_data(greeting, [{"name": f"{GREETING}/subject.txt", "language": "", "site": "",
                                   "content": "From the admin, {{ first_name }}"}], _publish="1")
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(reverse("admin:ace_admin_messagetype_change", args=[greeting.pk]), data).status_code == 302
    template = Template.objects.get()
    assert template.message_type == greeting and template.updated_by == admin_user
    assert template.revisions.get().author == admin_user
    greet()
    assert mail.outbox[-1].subject == "From the admin, Ada"


def test_history_diff_and_restore(staff, admin_user, django_capture_on_commit_callbacks):
    url = reverse("admin:ace_admin_template_add")
    form = {"name": f"{GREETING}/subject.txt", "language": "", "site": "", "_publish": "1",
            "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}  # "Save and publish"
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {**form, "content": "First subject {{ first_name }}"})
        template = Template.objects.get()
        staff.post(reverse("admin:ace_admin_template_change", args=[template.pk]),
                   {**form, "content": "Second subject {{ first_name }}"})
    assert list(template.revisions.values_list("number", flat=True)) == [2, 1]
    change_page = staff.get(reverse("admin:ace_admin_template_change", args=[template.pk])).content.decode()
    revision_url = reverse("admin:ace_admin_template_revision", args=[template.pk, 1])
    assert revision_url in change_page  # the history lists version 1 with its compare link
    diff_page = staff.get(revision_url).content.decode()
    assert "First" in diff_page and "Second" in diff_page and 'class="diff_chg"' in diff_page
    assert "Roll back to this version" in diff_page  # a manager's restore publishes (through the publish path)
    greet()
    assert mail.outbox[-1].subject == "Second subject Ada"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(revision_url)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.content == "First subject {{ first_name }}"
    latest = template.revisions.first()
    assert (latest.number, latest.author, latest.comment) == (3, admin_user, "restored version 1")
    greet()
    assert mail.outbox[-1].subject == "First subject Ada"


def test_unpublish_action_bumps_the_stamp_and_send_falls_back_to_the_file(staff, django_capture_on_commit_callbacks):
    template = TemplateFactory(name=f"{GREETING}/subject.txt", content="DB subject")
    greet()
    assert mail.outbox[-1].subject == "DB subject"
    before = stamp.current_stamp()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("admin:ace_admin_template_changelist"),
                              {"action": "unpublish", "_selected_action": [template.pk]})
    assert response.status_code == 302
    assert stamp.current_stamp() != before
    greet()
    assert mail.outbox[-1].subject == "Hello Ada, welcome to example.org"  # the file on disk
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:ace_admin_template_changelist"),
                   {"action": "publish", "_selected_action": [template.pk]})
    greet()
    assert mail.outbox[-1].subject == "DB subject"


def test_disable_action_on_message_types_bumps_the_stamp(staff, django_capture_on_commit_callbacks):
    greeting = MessageTypeFactory(app_label="tests", name="greeting")
    before = stamp.current_stamp()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:ace_admin_messagetype_changelist"),
                   {"action": "disable", "_selected_action": [greeting.pk]})
    greeting.refresh_from_db()
    assert not greeting.enabled and stamp.current_stamp() != before


def test_list_filters_and_search(staff):
    MessageTypeFactory(app_label="shop", name="receipt", category="account")
    MessageTypeFactory(app_label="news", name="weekly", category="marketing")
    TemplateFactory(name="news/edx_ace/weekly/email/subject.txt", language="fr", content="Nouvelles")
    TemplateFactory(name="shop/edx_ace/receipt/push/title.txt", content="Receipt")
    changelist = reverse("admin:ace_admin_messagetype_changelist")
    for query, expected in [("?category=marketing", "news.weekly"), ("?app_label=shop", "shop.receipt"),
                            ("?q=weekly", "news.weekly"), ("?templates__language=fr", "news.weekly")]:
        result = staff.get(changelist + query).context["cl"].result_list
        assert [str(mt) for mt in result] == [expected], query
    templates = reverse("admin:ace_admin_template_changelist")
    for query, expected in [("?language=fr", ["Nouvelles"]), ("?channel_type=push", ["Receipt"]),
                            ("?message_type__category=account", ["Receipt"]), ("?q=Nouvelles", ["Nouvelles"])]:
        assert [t.content for t in staff.get(templates + query).context["cl"].result_list] == expected, query


def test_delivery_log_is_read_only_and_searchable(staff):
    outcome = greet("grace@example.org")
    greet("linus@example.org")
    entry = DeliveryLog.objects.get(recipient_address="grace@example.org")
    changelist = reverse("admin:ace_admin_deliverylog_changelist")
    for query in ["?q=grace@example.org", f"?q={outcome.message.uuid}", f"?q={entry.message_uuid}"]:
        assert [e.pk for e in staff.get(changelist + query).context["cl"].result_list] == [entry.pk], query
    assert staff.get(changelist + f"?q={uuid.uuid4()}").context["cl"].result_count == 0
    assert staff.get(changelist + "?status=sent&channel_type=email").context["cl"].result_count == 2
    assert staff.get(changelist + "?message=tests.greeting").context["cl"].result_count == 2
    assert staff.get(changelist + "?status=failed").context["cl"].result_count == 0
    change = reverse("admin:ace_admin_deliverylog_change", args=[entry.pk])
    page = staff.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert staff.post(change, {"status": "failed"}).status_code == 403
    assert staff.get(reverse("admin:ace_admin_deliverylog_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.status == "sent"


def test_route_channel_is_a_choice_of_enabled_channels(staff, settings):
    page = staff.get(reverse("admin:ace_admin_channelroute_add"))
    choices = [value for value, _ in page.context["adminform"].form.fields["channel_name"].choices]
    assert choices == ["", "django_email", "file_push"]
    data = {"order": "1", "message_type": "", "category": "marketing", "transactional": "unknown",
            "channel_type": "email", "channel_name": "sailthru_email", "enabled": "on", "description": ""}
    response = staff.post(reverse("admin:ace_admin_channelroute_add"), data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = staff.post(reverse("admin:ace_admin_channelroute_add"), {**data, "channel_name": "file_push"})
    assert response.status_code == 200 and "does not deliver email" in response.content.decode()
    assert ChannelRoute.objects.count() == 0
    assert staff.post(reverse("admin:ace_admin_channelroute_add"),
                      {**data, "channel_name": "django_email"}).status_code == 302
    assert ChannelRoute.objects.get().channel_name == "django_email"


def test_policy_rule_period_is_a_duration(staff):
    data = {"kind": "frequency_cap", "channel_type": "email", "message_type": "", "category": "",
            "max_messages": "3", "period": "7 00:00:00", "enabled": "on", "description": "weekly cap"}
    assert staff.post(reverse("admin:ace_admin_policyrule_add"), data).status_code == 302
    rule = PolicyRule.objects.get()
    assert rule.period_seconds == 7 * 24 * 3600
    assert "7 days" in staff.get(reverse("admin:ace_admin_policyrule_changelist")).content.decode()
    page = staff.get(reverse("admin:ace_admin_policyrule_change", args=[rule.pk]))
    assert page.context["adminform"].form.initial["period"].days == 7
    response = staff.post(reverse("admin:ace_admin_policyrule_add"), {**data, "period": ""})
    assert response.status_code == 200 and "needs both" in response.content.decode()
    assert PolicyRule.objects.count() == 1


def test_inline_short_names_expand_and_foreign_names_are_refused(staff):
    welcome = MessageTypeFactory(app_label="shop", name="welcome")
    url = reverse("admin:ace_admin_messagetype_change", args=[welcome.pk])
    foreign = inline_data(welcome, [{"name": "shop/edx_ace/other/email/subject.txt", "language": "", "site": "",
                                     "published": "on", "content": "Hi"}])
    response = staff.post(url, foreign)
    assert response.status_code == 200 and "Templates of shop.welcome are named" in response.content.decode()
    assert Template.objects.count() == 0
    short = inline_data(welcome, [{"name": "email/subject.txt", "language": "fr", "site": "", "published": "on",
                                   "content": "Bienvenue"}])
    assert staff.post(url, short).status_code == 302
    template = Template.objects.get()
    assert (template.name, template.language, template.message_type, template.part) == (
        "shop/edx_ace/welcome/email/subject.txt", "fr", welcome, "subject.txt")


def test_new_message_type_with_templates_in_one_save(staff):
    data = inline_data(MessageType(app_label="shop", name="receipt", category="account"),
                       [{"name": "email/subject.txt", "language": "", "site": "", "published": "on",
                         "content": "Your receipt"}])
    data = {k: v for k, v in data.items() if not k.endswith("-message_type")}
    assert staff.post(reverse("admin:ace_admin_messagetype_add"), data).status_code == 302
    receipt = MessageType.objects.get(name="receipt")
    assert receipt.templates.get().name == "shop/edx_ace/receipt/email/subject.txt"


def test_restore_action_in_the_version_list(staff, client, django_capture_on_commit_callbacks):
    template = TemplateFactory(name=f"{GREETING}/subject.txt", content="One")
    template.content = "Two"
    template.save()
    first = template.revisions.get(number=1)
    changelist = reverse("admin:ace_admin_templaterevision_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(changelist, {"action": "restore", "_selected_action": [first.pk]})
    template.refresh_from_db()
    assert template.content == "One" and template.revisions.count() == 3
    greet()
    assert mail.outbox[-1].subject == "One"
    # Someone who may only view versions does not get the action.
    viewer = StaffFactory(username="vera", permissions=["view_templaterevision", "view_template"])
    client.force_login(viewer)
    action_form = client.get(changelist).context["action_form"]
    assert action_form is None or "restore" not in dict(action_form.fields["action"].choices)
    client.post(changelist, {"action": "restore", "_selected_action": [template.revisions.get(number=2).pk]})
    template.refresh_from_db()
    assert template.content == "One"
