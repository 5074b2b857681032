"""The campaign admin: importing a list (CSV, Excel), Run now, the run page's progress and controls."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ace_admin.campaigns import tasks
from ace_admin.models import AudienceMember, CampaignBatch, CampaignRun, DeliveryLog, Suppression, identity_hash
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import AudienceFactory, AudienceMemberFactory, SuperuserFactory

pytestmark = pytest.mark.django_db

CSV = (b"email,lms_user_id,language,first_name\n"
       b"ann@example.org,1,fr,Ann\n"
       b"not-an-address,2,,Bob\n"
       b"ANN@example.org,3,,Ann again\n"
       b"cy@example.org,,,Cy\n"
       b"dee@example.org,4,,Dee\n")


def _import(client, audience, name, data):
    url = reverse("admin:ace_admin_audience_import", args=[audience.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def test_a_csv_import_adds_the_valid_people_and_reports_and_counts_the_rest(admin_client):
    audience = AudienceFactory(name="List")
    AudienceMemberFactory(audience=audience, email="dee@example.org")
    response = _import(admin_client, audience, "people.csv", CSV)
    assert response.status_code == 200
    page = response.content.decode()
    # All or nothing: the invalid row refuses the file, and says which row.
    assert "Nothing imported: 1 invalid row(s)" in page
    assert "row 3: not-an-address is not a valid email address" in page
    assert sorted(audience.members.values_list("email", flat=True)) == ["dee@example.org"]

    response = _import(admin_client, audience, "people.csv", CSV.replace(b"not-an-address,2,,Bob\n", b""))
    page = response.content.decode()
    assert "2 added, 2 duplicate(s) skipped." in page
    assert "row 3: ann@example.org appears more than once in the file" in page
    assert "row 5: dee@example.org is already on this list" in page
    ann = AudienceMember.objects.get(audience=audience, email="ann@example.org")
    assert (ann.lms_user_id, ann.language, ann.context) == ("1", "fr", {"first_name": "Ann"})
    assert sorted(audience.members.values_list("email", flat=True)) == [
        "ann@example.org", "cy@example.org", "dee@example.org"]


def test_an_excel_import(admin_client):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "user_id", "first_name"])
    sheet.append(["xl1@example.org", 11, "Xia"])
    sheet.append(["bad@", 12, "Bad"])
    sheet.append(["xl2@example.org", None, "Yan"])
    data = io.BytesIO()
    book.save(data)
    audience = AudienceFactory(name="Excel")
    response = _import(admin_client, audience, "people.xlsx", data.getvalue())
    assert "Nothing imported: 1 invalid row(s)" in response.content.decode()
    assert "row 3: bad@ is not a valid email address" in response.content.decode()
    assert not audience.members.exists()
    sheet.delete_rows(3)
    data = io.BytesIO()
    book.save(data)
    response = _import(admin_client, audience, "people.xlsx", data.getvalue())
    assert "2 added, 0 duplicate(s) skipped." in response.content.decode()
    assert AudienceMember.objects.get(email="xl1@example.org").lms_user_id == "11"
    assert AudienceMember.objects.get(email="xl2@example.org").context == {"first_name": "Yan"}


def test_a_file_without_an_email_column_is_refused_and_adds_nobody(admin_client):
    audience = AudienceFactory(name="List")
    response = _import(admin_client, audience, "people.csv", b"name,phone\nAnn,123\n")
    assert "needs an &#x27;email&#x27; column" in response.content.decode()
    assert not audience.members.exists()


def test_run_now_from_the_campaign_list(admin_client, greeting, django_capture_on_commit_callbacks):
    campaign = make_campaign(greeting, make_audience(3))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:ace_admin_campaign_changelist"),
                                     {"action": "run_now", "_selected_action": [campaign.pk]}, follow=True)
    assert "Started" in response.content.decode()
    run = CampaignRun.objects.get(campaign=campaign)
    assert run.trigger == "hand" and run.status == CampaignRun.DONE and len(mail.outbox) == 3


def test_the_run_page_shows_progress_and_failures(admin_client, greeting, smtp_settings, run_on_commit):
    smtp_settings.refuse_rcpt("p2@example.org", "550 5.1.1 No such user")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(4)))
    page = admin_client.get(reverse("admin:ace_admin_campaignrun_change", args=[run.pk])).content.decode()
    assert 'id="ace-run-progress"' in page and "ace_admin/campaigns/progress.js" in page
    assert "p2@example.org" in page and "550" in page
    progress = admin_client.get(reverse("admin:ace_admin_campaignrun_progress", args=[run.pk])).json()
    assert progress["status"] == "done" and progress["percent"] == 100.0
    assert (progress["sent"], progress["failed"], progress["total"]) == (3, 1, 4)


def test_pause_resume_and_cancel_from_the_run_page(admin_client, greeting, settings,
                                                   django_capture_on_commit_callbacks, monkeypatch):
    settings.ACE_CAMPAIGN_BATCH_SIZE = 2
    held = []
    monkeypatch.setattr(tasks.send_batch, "delay", lambda pk: held.append(pk))  # a busy queue: batches wait
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start_run(make_campaign(greeting, make_audience(6)))
    assert len(held) == 3
    control = lambda action: admin_client.post(  # noqa: E731
        reverse("admin:ace_admin_campaignrun_control", args=[run.pk, action]), follow=True)

    assert "1 run(s) paused." in control("pause").content.decode()
    tasks.send_batch.run(held[0])  # a worker picks a batch up while the run is paused: it sends nothing
    assert mail.outbox == [] and CampaignBatch.objects.get(pk=held[0]).status == CampaignBatch.QUEUED

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 run(s) resumed." in control("resume").content.decode()
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and len(mail.outbox) == 6

    assert "could not be cancelled" in control("cancel").content.decode()


def test_cancel_stops_the_batches_not_yet_sent(admin_client, greeting, settings, django_capture_on_commit_callbacks,
                                               monkeypatch):
    settings.ACE_CAMPAIGN_BATCH_SIZE = 2
    held = []
    monkeypatch.setattr(tasks.send_batch, "delay", lambda pk: held.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start_run(make_campaign(greeting, make_audience(6)))
    tasks.send_batch.run(held[0])
    assert len(mail.outbox) == 2
    admin_client.post(reverse("admin:ace_admin_campaignrun_control", args=[run.pk, "cancel"]))
    for pk in held[1:]:
        tasks.send_batch.run(pk)
    run.refresh_from_db()
    assert run.status == CampaignRun.CANCELLED and run.sent == 2 and len(mail.outbox) == 2
    assert DeliveryLog.objects.filter(campaign_run=run).count() == 2


def test_campaign_pages_open(admin_client, greeting):
    campaign = make_campaign(greeting, make_audience(1))
    for url in (reverse("admin:ace_admin_campaign_change", args=[campaign.pk]),
                reverse("admin:ace_admin_campaign_add"), reverse("admin:ace_admin_audience_add"),
                reverse("admin:ace_admin_audience_change", args=[campaign.audience.pk]),
                reverse("admin:ace_admin_campaignrun_changelist"),
                reverse("admin:ace_admin_audiencemember_changelist")):
        assert admin_client.get(url).status_code == 200, url


def test_send_a_test_from_the_campaign_to_the_seed_addresses(client, smtp_settings, greeting):
    greeting.seed_addresses = "qa@example.org\nbounced@example.org"
    greeting.save()
    Suppression.objects.create(address_hash=identity_hash("bounced@example.org"), reason="bounced")
    campaign = make_campaign(greeting, make_audience(2))
    client.force_login(SuperuserFactory())
    response = client.post(reverse("admin:ace_admin_campaign_test", args=[campaign.pk]), follow=True)
    texts = [str(message) for message in response.context["messages"]]
    assert "Test to qa@example.org: sent." in texts
    assert any("bounced@example.org" in text and "suppressed" in text for text in texts)
    [received] = smtp_settings.messages
    assert received.rcpt_tos == ["qa@example.org"]
    assert "Dear P1, your code is" in received.text  # the first person's details, the shared ones
    assert client.get(reverse("admin:ace_admin_campaign_test", args=[campaign.pk])).status_code == 403
