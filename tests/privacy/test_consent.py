"""Nothing destroys history or consent by accident (issue 9, part 5): opt-outs keyed by natural key, unsubscribe
from a message without a category, opaque tokens, archive instead of delete."""

from __future__ import annotations

import base64
import json

import pytest
from django.core import signing
from django.core.management import call_command
from django.urls import reverse

from ace_admin.content.resources import MessageTypeResource
from ace_admin.importing import SafeJSON
from ace_admin.models import DeliveryLog, MessageType, OptOut, Template
from ace_admin.privacy import links
from tests.ace_admin.conftest import make_message as make_welcome
from tests.factories import AudienceFactory, CampaignFactory, CampaignRunFactory, SuperuserFactory
from tests.privacy.conftest import make_message, path_of, send_email, unsubscribe_link

pytestmark = pytest.mark.django_db


def _statuses():
    return list(DeliveryLog.objects.order_by("id").values_list("message_name", "status"))


def test_one_click_unsubscribe_without_category_stops_that_message_type_only(client, message_types):
    # ace_admin_tests.welcome is not in the admin and has no category.
    _, email = send_email(make_welcome())
    response = client.post(path_of(unsubscribe_link(email)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    opt_out = OptOut.objects.get()
    assert (opt_out.category, opt_out.app_label, opt_out.message_name) == ("", "ace_admin_tests", "welcome")
    DeliveryLog.objects.all().delete()
    assert send_email(make_welcome())[1] is None  # that message type: stopped
    assert send_email(make_message("news"))[1] is not None  # other marketing mail: still delivered
    assert _statuses() == [("welcome", "denied"), ("news", "sent")]


def test_the_preference_page_switches_the_message_type_off_and_on(client, message_types):
    _, email = send_email(make_welcome())
    token = path_of(unsubscribe_link(email)).rstrip("/").split("/")[-1]
    subscriber = links.read_token(token)
    url = reverse("ace_admin:preferences", kwargs={"token": links.make_token(subscriber, links.PREFERENCES_SALT)})
    page = client.get(url).content.decode()
    assert 'name="message_type"' in page and "Emails like the one this link came from" in page
    # Untick it (keep every category on).
    client.post(url, {"action": "save", "message_type_shown": "1", "category": ["newsletter", "offers"]})
    assert OptOut.objects.filter(app_label="ace_admin_tests", message_name="welcome").count() == 1
    assert send_email(make_welcome())[1] is None
    assert send_email(make_message("news"))[1] is not None
    # Tick it again.
    client.post(url, {"action": "save", "message_type_shown": "1", "message_type": "1",
                      "category": ["newsletter", "offers"]})
    assert not OptOut.objects.exists()
    assert send_email(make_welcome())[1] is not None


def test_opt_outs_survive_deleting_and_recreating_the_message_type(client, message_types):
    row = {"app_label": "ace_admin_tests", "name": "welcome", "description": "", "category": "",
           "transactional": "false", "enabled": "true", "from_address": "", "reply_to": "", "sample_context": "{}",
           "templates": "[]"}

    def import_type():
        result = MessageTypeResource().import_data(SafeJSON().create_dataset(json.dumps([row])), dry_run=False)
        assert not result.has_errors() and not result.has_validation_errors()

    import_type()
    _, email = send_email(make_welcome())
    client.post(path_of(unsubscribe_link(email)))
    assert OptOut.objects.count() == 1
    DeliveryLog.objects.all().delete()
    MessageType.objects.filter(name="welcome").delete()  # nothing refers to it now: deleting is allowed
    assert OptOut.objects.count() == 1  # never cascaded
    import_type()
    assert send_email(make_welcome())[1] is None
    DeliveryLog.objects.all().delete()
    MessageType.objects.filter(name="welcome").delete()
    call_command("ace_sync", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert MessageType.objects.filter(app_label="ace_admin_tests", name="welcome").exists()
    assert send_email(make_welcome())[1] is None
    assert DeliveryLog.objects.get().status == "denied"


def test_tokens_are_opaque_and_tampering_changes_nothing(client, message_types):
    _, email = send_email(make_message("news", user_id=4242, email="ann.secret@example.com"))
    link = unsubscribe_link(email)
    token = path_of(link).rstrip("/").split("/")[-1]
    html = "".join(content for content, _ in email.alternatives)
    for text in (token, link, html, str(email.extra_headers)):
        assert "ann.secret" not in text and "4242" not in text
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ann.secret" not in decoded and b"4242" not in decoded and b"newsletter" not in decoded
    assert links.read_token(token).email == "ann.secret@example.com"
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    for bad in (tampered, token[:-3], token + "x", "gAAAAA" + "x" * 100, "x" * 3000):
        assert client.post(f"/unsubscribe/{bad}/".replace("//", "/")).status_code in (400, 404)
        assert client.post(path_of(link).replace(token, bad)).status_code == 400
    assert not OptOut.objects.exists()
    assert client.post(path_of(link)).status_code == 200
    assert OptOut.objects.get().category == "newsletter"


def test_links_from_before_encryption_keep_working(client, message_types):
    legacy = signing.dumps({"u": "7", "e": "old@example.com", "c": "offers"}, salt=links.UNSUBSCRIBE_SALT)
    path = reverse("ace_admin:unsubscribe", kwargs={"token": legacy})
    assert client.post(path).status_code == 200
    assert OptOut.objects.get().email == "old@example.com"
    forged = signing.dumps({"u": "7", "e": "old@example.com", "c": "offers"}, salt="another")
    assert client.post(reverse("ace_admin:unsubscribe", kwargs={"token": forged})).status_code == 400


# --- archive instead of delete ------------------------------------------------------------------------------


@pytest.fixture
def superuser(client, db):
    client.force_login(SuperuserFactory(username="boss"))
    return client


def test_a_message_type_with_history_is_archived_not_deleted(superuser, message_types):
    news = message_types["news"]
    send_email(make_message("news"))
    url = reverse("admin:ace_admin_messagetype_delete", args=[news.pk])
    page = superuser.get(url)
    assert page.status_code == 200 and "Cannot delete message type" in page.content.decode()
    response = superuser.post(url, {"post": "yes"})
    assert response.status_code in (200, 403)
    assert MessageType.objects.filter(pk=news.pk).exists()
    # The bulk delete action too: a clear page, no 500.
    response = superuser.post(reverse("admin:ace_admin_messagetype_changelist"),
                              {"action": "delete_selected", "_selected_action": [news.pk], "post": "yes"})
    assert response.status_code in (200, 302, 403) and MessageType.objects.filter(pk=news.pk).exists()
    # Archive it: kept, hidden from the list by default, never sent (with a clear reason in the log).
    superuser.post(reverse("admin:ace_admin_messagetype_changelist"),
                   {"action": "archive", "_selected_action": [news.pk]})
    news.refresh_from_db()
    assert news.archived
    listing = superuser.get(reverse("admin:ace_admin_messagetype_changelist")).content.decode()
    assert "privacy_tests.news" not in listing and "privacy_tests.offers" in listing
    assert "privacy_tests.news" in superuser.get(
        reverse("admin:ace_admin_messagetype_changelist") + "?archived=yes").content.decode()
    assert send_email(make_message("news"))[1] is None
    assert DeliveryLog.objects.order_by("-id").first().policy == "message type archived"
    superuser.post(reverse("admin:ace_admin_messagetype_changelist") + "?archived=yes",
                   {"action": "unarchive", "_selected_action": [news.pk]})
    assert send_email(make_message("news"))[1] is not None


def test_a_template_with_versions_is_archived_when_deleted_from_its_message_type(superuser, message_types):
    template = Template.objects.get(name="privacy_tests/edx_ace/offers/email/subject.txt")
    url = reverse("admin:ace_admin_template_delete", args=[template.pk])
    assert superuser.get(url).status_code == 200
    superuser.post(reverse("admin:ace_admin_template_changelist"),
                   {"action": "archive", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert template.archived and not template.published and template.revisions.exists()


def test_a_campaign_with_runs_is_archived_and_cannot_run(superuser, message_types, settings):
    from ace_admin.models import Campaign, CampaignRun

    audience = AudienceFactory(name="People")
    campaign = CampaignFactory(name="C", message_type=message_types["news"], audience=audience)
    CampaignRunFactory(campaign=campaign, status=CampaignRun.DONE)
    response = superuser.post(reverse("admin:ace_admin_campaign_delete", args=[campaign.pk]), {"post": "yes"})
    assert response.status_code in (200, 403) and Campaign.objects.filter(pk=campaign.pk).exists()
    changelist = reverse("admin:ace_admin_campaign_changelist")
    superuser.post(changelist, {"action": "archive", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.archived and campaign.periodic_task_id is None
    response = superuser.post(changelist + "?archived=all", {"action": "run_now", "_selected_action": [campaign.pk]},
                              follow=True)
    assert "is archived" in response.content.decode()
    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
