"""Least-privilege roles over the Django test client: what editors, managers and privacy officers can and
cannot do (admin pages, crafted POSTs, actions, imports, preview and test sends, campaigns, suppressions,
erasure), the test-send limits, and masked addresses for editors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from ace_admin import groups
from ace_admin.groups import EDITORS, MANAGERS, PRIVACY_OFFICERS
from ace_admin.models import (
    AudienceMember,
    CampaignRun,
    DeliveryLog,
    OptOut,
    Suppression,
    Template,
    identity_hash,
)
from tests.factories import (
    AudienceFactory,
    AudienceMemberFactory,
    CampaignFactory,
    CampaignRunFactory,
    DeliveryLogFactory,
    MessageTypeFactory,
    OptOutFactory,
    StaffFactory,
    SuppressionFactory,
    TemplateFactory,
)

pytestmark = pytest.mark.django_db

SENDER = {"transactional": "on", "from_address": "Bank Security <security@bank.example>",
          "reply_to": "phish@bank.example", "seed_addresses": "victim@example.org"}


def member_of(group_name: str, username: str) -> User:
    return StaffFactory(username=username, role=group_name)


@pytest.fixture
def as_role(client):
    """``as_role(EDITORS)`` -> the test client logged in as a new member of that group."""

    def login(group_name: str, username: str | None = None):
        user = member_of(group_name, username or group_name.split()[-1][:-1])
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def newsletter(db):
    return MessageTypeFactory(app_label="tests", name="greeting", category="news",
                              sample_context={"first_name": "Ada", "code": "C0DE"})


def change_data(message_type, **fields) -> dict:
    data = {"app_label": message_type.app_label, "name": message_type.name, "description": message_type.description,
            "category": message_type.category, "enabled": "on", "from_address": message_type.from_address,
            "reply_to": message_type.reply_to, "seed_addresses": message_type.seed_addresses,
            "sample_context": json.dumps(message_type.sample_context), "templates-TOTAL_FORMS": "0",
            "templates-INITIAL_FORMS": "0", "templates-MIN_NUM_FORMS": "0", "templates-MAX_NUM_FORMS": "1000"}
    data.update(fields)
    return data


def log_row(address="ada@example.org", **fields) -> DeliveryLog:
    """A "sent" email to user 42 of tests.greeting (the factory's defaults), at ``address``."""
    return DeliveryLogFactory(**{"message_name": "greeting", "recipient_id": "42", "recipient_address": address,
                                 **fields})


# --- the groups: migration, live definition, ace_groups ----------------------------------------------------------


def test_the_migrations_carry_frozen_lists_and_match_the_live_definition():
    migrations = Path(groups.__file__).parent / "migrations"
    for name in ("0002_staff_groups.py", "0005_roles.py"):
        assert "ace_admin.groups" not in (migrations / name).read_text().replace("``ace_admin.groups``", "")
    # What migrate created is today's live definition (change both together, with a new migration).
    for group_name, models in groups.GROUPS.items():
        held = set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))
        assert held == set(groups.codenames(models)), group_name


def test_ace_groups_resyncs_all_three_groups():
    Group.objects.filter(name=PRIVACY_OFFICERS).delete()
    managers = Group.objects.get(name=MANAGERS)
    managers.permissions.add(Permission.objects.get(codename="erase_recipient"))
    out = io.StringIO()
    call_command("ace_groups", stdout=out)
    assert PRIVACY_OFFICERS in out.getvalue()
    assert not managers.permissions.filter(codename="erase_recipient").exists()
    assert Group.objects.get(name=PRIVACY_OFFICERS).permissions.filter(codename="erase_recipient").exists()


# --- editors: content yes, sending no -----------------------------------------------------------------------------


def test_editor_sees_the_sending_fields_read_only_and_a_crafted_post_changes_none(as_role, newsletter):
    editor = as_role(EDITORS)
    url = reverse("admin:ace_admin_messagetype_change", args=[newsletter.pk])
    page = editor.get(url).content.decode()
    for field in SENDER:
        assert f'name="{field}"' not in page
    assert 'name="description"' in page and 'name="sample_context"' in page

    response = editor.post(url, change_data(newsletter, description="New words", **SENDER))
    assert response.status_code == 302, response.content.decode()[:3000]
    newsletter.refresh_from_db()
    assert newsletter.description == "New words"
    assert (newsletter.transactional, newsletter.from_address, newsletter.reply_to, newsletter.seed_addresses) == (
        False, "", "", "")


def test_manager_changes_the_sender_and_seeds_within_the_cap(as_role, newsletter):
    manager = as_role(MANAGERS)
    url = reverse("admin:ace_admin_messagetype_change", args=[newsletter.pk])
    assert 'name="from_address"' in manager.get(url).content.decode()
    too_many = "\n".join(f"qa{n}@example.org" for n in range(11))
    response = manager.post(url, change_data(newsletter, **{**SENDER, "seed_addresses": too_many}))
    assert response.status_code == 200 and "At most 10 seed addresses (11 given)" in response.content.decode()
    newsletter.refresh_from_db()
    assert newsletter.from_address == ""
    assert manager.post(url, change_data(newsletter, **SENDER)).status_code == 302
    newsletter.refresh_from_db()
    assert newsletter.transactional and newsletter.from_address == SENDER["from_address"]
    assert newsletter.seed_addresses == "victim@example.org"


def test_editor_cannot_publish_and_new_templates_are_drafts(as_role, newsletter):
    editor = as_role(EDITORS)
    draft = TemplateFactory(name="tests/edx_ace/greeting/email/subject.txt", content="Hi", published=False)
    editor.post(reverse("admin:ace_admin_template_changelist"), {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert not draft.published
    response = editor.post(reverse("admin:ace_admin_template_add"), {
        "name": "tests/edx_ace/greeting/email/body.html", "language": "", "site": "", "published": "on",
        "content": "<p>Hello</p>", "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    assert not Template.objects.get(name="tests/edx_ace/greeting/email/body.html").published
    editor.post(reverse("admin:ace_admin_messagetype_override", args=[newsletter.pk]),
                {"name": "tests/edx_ace/greeting/email/body.txt", "language": ""})
    assert not Template.objects.get(name="tests/edx_ace/greeting/email/body.txt").published

    manager = as_role(MANAGERS)
    manager.post(reverse("admin:ace_admin_template_changelist"), {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.published


def _import(client, text: str):
    file = SimpleUploadedFile("types.json", text.encode())
    return client.post(reverse("admin:ace_admin_messagetype_import"),
                       {"import_file": file, "format": "0", "resource": "0"})


def test_editor_import_cannot_change_the_sender_manager_import_can(as_role, newsletter):
    rows = [{"app_label": "tests", "name": "greeting", "description": "Imported", "category": "news",
             "transactional": True, "enabled": True, "from_address": "Bank <security@bank.example>", "reply_to": "",
             "sample_context": {}, "templates": []}]
    editor = as_role(EDITORS)
    response = _import(editor, json.dumps(rows))
    assert response.status_code == 200
    assert "only managers can change the sender" in response.content.decode()
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    newsletter.refresh_from_db()
    assert (newsletter.transactional, newsletter.from_address) == (False, "")

    # Content alone imports fine for an editor.
    rows[0].update(transactional=False, from_address="")
    response = _import(editor, json.dumps(rows))
    editor.post(reverse("admin:ace_admin_messagetype_process_import"), response.context["confirm_form"].initial)
    newsletter.refresh_from_db()
    assert newsletter.description == "Imported"

    manager = as_role(MANAGERS)
    rows[0].update(transactional=True, from_address="News <news@example.org>")
    response = _import(manager, json.dumps(rows))
    manager.post(reverse("admin:ace_admin_messagetype_process_import"), response.context["confirm_form"].initial)
    newsletter.refresh_from_db()
    assert (newsletter.transactional, newsletter.from_address) == (True, "News <news@example.org>")


@pytest.mark.parametrize("model", ["channelroute", "policyrule", "optout", "suppression", "audiencemember"])
def test_editor_cannot_open_operations_and_privacy_pages(as_role, model):
    editor = as_role(EDITORS)
    assert editor.get(reverse(f"admin:ace_admin_{model}_changelist")).status_code == 403


def test_editor_sees_campaigns_but_cannot_change_or_run_them(as_role, newsletter):
    campaign = CampaignFactory(name="Weekly", message_type=newsletter,
                               audience=AudienceFactory(name="All"))
    editor = as_role(EDITORS)
    assert editor.get(reverse("admin:ace_admin_campaign_changelist")).status_code == 200
    assert editor.get(reverse("admin:ace_admin_campaign_add")).status_code == 403
    assert editor.get(reverse("admin:ace_admin_audience_import", args=[campaign.audience.pk])).status_code == 403
    editor.post(reverse("admin:ace_admin_campaign_changelist"),
                {"action": "run_now", "_selected_action": [campaign.pk]})
    assert not CampaignRun.objects.exists()


# --- managers: campaigns, suppressions; no erasure ----------------------------------------------------------------


def test_manager_runs_campaigns_and_imports_audiences(as_role, newsletter, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    audience = AudienceFactory(name="Two")
    # The shared details the greeting's templates use (without them the preflight check blocks the run).
    campaign = CampaignFactory(name="Weekly", message_type=newsletter, audience=audience,
                               context={"code": "C0DE", "site": "example.org"})
    manager = as_role(MANAGERS)
    for name in ("campaign_changelist", "campaign_add", "campaignrun_changelist", "audience_add"):
        assert manager.get(reverse(f"admin:ace_admin_{name}")).status_code == 200, name
    upload = SimpleUploadedFile("people.csv", b"email,first_name\nann@example.org,Ann\nbob@example.org,Bob\n")
    response = manager.post(reverse("admin:ace_admin_audience_import", args=[audience.pk]), {"file": upload})
    assert response.status_code == 200 and AudienceMember.objects.filter(audience=audience).count() == 2
    with django_capture_on_commit_callbacks(execute=True):  # the tasks queued after commit run (eager Celery)
        manager.post(reverse("admin:ace_admin_campaign_changelist"),
                     {"action": "run_now", "_selected_action": [campaign.pk]})
    run = CampaignRun.objects.get(campaign=campaign)
    assert run.status == CampaignRun.DONE and run.sent == 2
    assert sorted(message.to[0] for message in mailoutbox) == ["ann@example.org", "bob@example.org"]


def test_manager_lifts_a_suppression_but_cannot_erase(as_role):
    entry = SuppressionFactory(email="gone@example.org", reason="bounce")
    manager = as_role(MANAGERS)
    manager.post(reverse("admin:ace_admin_suppression_changelist"), {"action": "lift", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.lifted_at is not None

    OptOutFactory(email="ann@example.org", category="news")
    assert manager.get(reverse("admin:ace_admin_erase_recipient")).status_code == 403
    assert manager.post(reverse("admin:ace_admin_erase_recipient"),
                        {"identifier": "ann@example.org", "confirm": "on"}).status_code == 403
    manager.post(reverse("admin:ace_admin_optout_changelist"),
                 {"action": "erase", "_selected_action": list(OptOut.objects.values_list("pk", flat=True))})
    manager.post(reverse("admin:ace_admin_suppression_changelist"), {"action": "erase", "_selected_action": [entry.pk]})
    assert OptOut.objects.filter(email="ann@example.org").exists()
    assert Suppression.objects.get(pk=entry.pk).email == "gone@example.org"
    assert manager.get(reverse("admin:ace_admin_optout_export")).status_code == 403


# --- privacy officers: erase, export opt-outs; nothing else -------------------------------------------------------


def test_privacy_officer_erases_and_exports_opt_outs(as_role, newsletter):
    OptOutFactory(email="ann@example.org", category="news")
    OptOutFactory(email="bob@example.org", category="news")
    officer = as_role(PRIVACY_OFFICERS)
    response = officer.post(reverse("admin:ace_admin_optout_export"), {
        "format": "0", "resource": "0", **{f"optoutresource_{name}": "on" for name in ("email", "category")}})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(row["email"] for row in rows) == ["ann@example.org", "bob@example.org"]

    response = officer.post(reverse("admin:ace_admin_erase_recipient"), {"identifier": "ann@example.org",
                                                                          "confirm": "on"})
    assert response.status_code == 302
    assert not OptOut.objects.filter(email="ann@example.org").exists()
    assert Suppression.objects.get(address_hash=identity_hash("ann@example.org")).reason == "erased"

    bob = OptOut.objects.get(email="bob@example.org")
    officer.post(reverse("admin:ace_admin_optout_changelist"), {"action": "erase", "_selected_action": [bob.pk]})
    assert not OptOut.objects.exists()


def test_privacy_officer_cannot_edit_content_routes_or_lift(as_role, newsletter):
    entry = SuppressionFactory(email="gone@example.org", reason="bounce")
    officer = as_role(PRIVACY_OFFICERS)
    for name in ("messagetype_changelist", "template_changelist", "channelroute_changelist", "campaign_add"):
        assert officer.get(reverse(f"admin:ace_admin_{name}")).status_code == 403, name
    assert officer.get(reverse("admin:ace_admin_messagetype_preview", args=[newsletter.pk])).status_code == 403
    officer.post(reverse("admin:ace_admin_suppression_changelist"), {"action": "lift", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.lifted_at is None


# --- masked addresses ---------------------------------------------------------------------------------------------


def test_editor_sees_delivery_log_addresses_masked_everywhere(as_role):
    row = log_row(status="failed", error="550 5.1.1 <ada@example.org>: no such user")
    editor = as_role(EDITORS)
    changelist = editor.get(reverse("admin:ace_admin_deliverylog_changelist")).content.decode()
    assert "a***@example.org" in changelist and "ada@example.org" not in changelist
    searched = editor.get(reverse("admin:ace_admin_deliverylog_changelist"), {"q": "ada@example.org"})
    assert searched.context["cl"].result_count == 0  # addresses are not searchable: no "is X a recipient?" oracle
    detail = editor.get(reverse("admin:ace_admin_deliverylog_change", args=[row.pk])).content.decode()
    assert "a***@example.org" in detail and "ada@example.org" not in detail
    row.refresh_from_db()
    assert row.recipient_address == "ada@example.org"  # masked on screen only

    manager = as_role(MANAGERS)
    assert "ada@example.org" in manager.get(reverse("admin:ace_admin_deliverylog_changelist"),
                                            {"q": "ada@example.org"}).content.decode()


def test_editor_sees_campaign_run_failures_masked(as_role, newsletter):
    campaign = CampaignFactory(name="Weekly", message_type=newsletter,
                               audience=AudienceFactory(name="All"))
    run = CampaignRunFactory(campaign=campaign, recipients=1)
    log_row(address="bob@example.org", status="failed", error="550 <bob@example.org> unknown", campaign_run=run)
    page = as_role(EDITORS).get(reverse("admin:ace_admin_campaignrun_change", args=[run.pk])).content.decode()
    assert "b***@example.org" in page and "bob@example.org" not in page


def test_a_viewer_without_the_address_permission_gets_masked_suppressions_opt_outs_and_exports(client):
    SuppressionFactory(email="gone@example.org", reason="bounce", details="550 <gone@example.org> gone")
    OptOutFactory(email="ann@example.org", category="news")
    AudienceMemberFactory(audience=AudienceFactory(name="All"), email="cy@example.org")
    viewer = StaffFactory(username="viewer", permissions=["view_suppression", "view_optout", "view_audiencemember"])
    client.force_login(viewer)
    for model, hidden, shown in (("suppression", "gone@example.org", "g***@example.org"),
                                 ("optout", "ann@example.org", "a***@example.org"),
                                 ("audiencemember", "cy@example.org", "c***@example.org")):
        page = client.get(reverse(f"admin:ace_admin_{model}_changelist")).content.decode()
        assert shown in page and hidden not in page, model
    fields = ["email", "reason", "details"]
    response = client.post(reverse("admin:ace_admin_suppression_export"), {
        "format": "0", "resource": "0", **{f"suppressionresource_{name}": "on" for name in fields}})
    exported = response.content.decode("utf-8-sig")
    assert "g***@example.org" in exported and "gone@example.org" not in exported


# --- test sends ---------------------------------------------------------------------------------------------------


def send_test(client, message_type, recipients="me"):
    return client.post(reverse("admin:ace_admin_messagetype_preview", args=[message_type.pk]), {
        "language": "en", "channel_type": "email", "context": json.dumps(message_type.sample_context),
        "overlay": "", "recipients": recipients, "send_test": "1"})


def test_editor_previews_and_sends_a_test_to_their_own_address(as_role, newsletter, smtp_settings):
    editor = as_role(EDITORS, "eddie")
    assert editor.get(reverse("admin:ace_admin_messagetype_preview", args=[newsletter.pk])).status_code == 200
    page = send_test(editor, newsletter).content.decode()
    assert "eddie@example.org: sent over django_email" in page
    assert len(smtp_settings.received_by("eddie@example.org")) == 1


def test_seed_sends_are_capped_at_ten_and_skip_suppressed_and_erased(as_role, newsletter, smtp_settings):
    seeds = [f"qa{n}@example.org" for n in range(12)]  # a list saved before the cap existed
    newsletter.seed_addresses = "\n".join(seeds)
    newsletter.save()
    SuppressionFactory(email="qa1@example.org", reason="bounce")
    SuppressionFactory(address_hash=identity_hash("qa2@example.org"), reason="erased")
    editor = as_role(EDITORS)
    page = send_test(editor, newsletter, recipients="seeds").content.decode()
    assert "Test not sent to qa1@example.org: the address is suppressed." in page
    assert "Test not sent to qa2@example.org: the person&#x27;s data was erased." in page
    assert "Test not sent to qa10@example.org: a test goes to at most 10 addresses." in page
    delivered = sorted(address for address in seeds if smtp_settings.received_by(address))
    assert delivered == sorted(seeds[:1] + seeds[3:10])
    assert DeliveryLog.objects.filter(is_test=True).count() == 8


def test_test_sends_are_rate_limited_per_user(as_role, newsletter, smtp_settings, settings):
    settings.ACE_TEST_SEND_LIMIT_PER_HOUR = 3
    editor = as_role(EDITORS, "eddie")
    for _ in range(3):
        assert "sent over django_email" in send_test(editor, newsletter).content.decode()
    page = send_test(editor, newsletter).content.decode()
    assert "you may send 3 test messages per hour" in page
    assert len(smtp_settings.received_by("eddie@example.org")) == 3
    # Another user has an allowance of their own.
    other = as_role(EDITORS, "olga")
    assert "sent over django_email" in send_test(other, newsletter).content.decode()


def test_editor_previews_unsaved_inline_edits_although_published_is_read_only(as_role, newsletter):
    subject = TemplateFactory(name="tests/edx_ace/greeting/email/subject.txt", content="Saved subject",
                              message_type=newsletter)
    editor = as_role(EDITORS)
    data = {"_ace_preview": "1", "templates-TOTAL_FORMS": "1", "templates-0-id": str(subject.pk),
            "templates-0-name": subject.name, "templates-0-language": "", "templates-0-site": "",
            "templates-0-content": "Unsaved subject for {{ first_name }}"}  # no "published": not in an editor's form
    page = editor.post(reverse("admin:ace_admin_messagetype_preview", args=[newsletter.pk]), data).content.decode()
    assert "Unsaved subject for Ada" in page
    subject.refresh_from_db()
    assert subject.content == "Saved subject"
