"""Erasure: after ``ace_erase_recipient`` nothing in the database names the person; only fingerprints remain."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import models

from ace.errors import FatalChannelDeliveryError
from ace.outcome import DeliveryStatus
from ace_admin.models import DeliveryLog, OptOut, Suppression, identity_hash
from tests.factories import (
    AudienceFactory,
    AudienceMemberFactory,
    CampaignBatchFactory,
    CampaignFactory,
    CampaignRunFactory,
    OptOutFactory,
    SuperuserFactory,
)
from tests.privacy.conftest import make_message, send_email

pytestmark = pytest.mark.django_db

ANN, BOB = "ann@example.com", "bob@example.com"


def every_value():
    """Every text/JSON value stored in ace_admin's tables and the admin's history, as (table, field, text)."""
    found = []
    model_list = [*apps.get_app_config("ace_admin").get_models(), LogEntry]
    for model in model_list:
        text_fields = [f for f in model._meta.concrete_fields
                       if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        for row in model.objects.values_list(*[f.attname for f in text_fields]):
            for field, value in zip(text_fields, row, strict=True):
                if value not in (None, ""):
                    found.append((model._meta.db_table, field.name, json.dumps(value) if not isinstance(value, str)
                                  else value))
    return found


def traces_of(needle: str):
    return [(table, field) for table, field, text in every_value() if needle.lower() in text.lower()]


@pytest.fixture
def ann_everywhere(message_types, smtp_settings):
    """Ann (user 7) in the delivery log (sent, denied, failed with her address in the error), an opt-out,
    a bounce suppression, an audience, a pending campaign batch and the admin history; Bob alongside."""
    from ace_admin.privacy import suppression

    send_email(make_message("news", email=ANN))
    send_email(make_message("news", user_id=8, email=BOB))
    smtp_settings.refuse_rcpt(ANN, "550 5.1.1 <ann@example.com> No such user")
    [failed], _ = send_email(make_message("offers", email=ANN))  # reported in the outcome, not raised (edx-ace)
    assert isinstance(failed.error, FatalChannelDeliveryError)
    smtp_settings.reset()
    opt_out = OptOutFactory(email=ANN, lms_user_id="7", category="offers", source="admin")
    OptOutFactory(email=BOB, category="offers")
    suppression.suppress(ANN, reason="bounce", details="550 <ann@example.com> No such user", source="django_email")
    admin_user = SuperuserFactory(username="boss")
    LogEntry.objects.create(user=admin_user, content_type=ContentType.objects.get_for_model(OptOut),
                            object_id=str(opt_out.pk), object_repr=str(opt_out), action_flag=CHANGE,
                            change_message="changed")
    campaign_models = {model._meta.model_name for model in apps.get_app_config("ace_admin").get_models()}
    if "audiencemember" in campaign_models:

        audience = AudienceFactory(name="Newsletter list")
        AudienceMemberFactory(audience=audience, email=ANN, lms_user_id="7", context={"first_name": "Ann"})
        AudienceMemberFactory(audience=audience, email=BOB, lms_user_id="8")
        campaign = CampaignFactory(name="Monday", message_type=message_types["news"], audience=audience)
        run = CampaignRunFactory(campaign=campaign, trigger="hand")
        CampaignBatchFactory(run=run, recipients=[
            {"id": "7", "email": ANN, "lang": "", "ctx": {"first_name": "Ann"}},
            {"id": "8", "email": BOB, "lang": "", "ctx": {}}])
    assert traces_of(ANN), "the fixture must put Ann's address somewhere"
    return opt_out


def test_erasure_by_email_leaves_only_fingerprints(ann_everywhere, capsys):
    before_bob = len(traces_of(BOB))
    rows_before = DeliveryLog.objects.count()
    call_command("ace_erase_recipient", "ANN@example.com")
    assert "ann@" not in capsys.readouterr().out  # the output names nobody
    assert traces_of(ANN) == []
    assert traces_of("ann@") == []
    # Her user id is gone from every id column.
    assert not DeliveryLog.objects.filter(recipient_id="7").exists()
    assert not OptOut.objects.filter(lms_user_id="7").exists()
    # The log keeps its rows (counts stay right), anonymised.
    assert DeliveryLog.objects.count() == rows_before
    # Bob is untouched.
    assert len(traces_of(BOB)) == before_bob
    # What is left of Ann: fingerprints in suppressions, nothing else.
    entries = Suppression.objects.filter(address_hash=identity_hash(ANN))
    assert entries.exists() and all(entry.email == "" for entry in entries)
    erased = entries.get(reason="erased")
    assert erased.user_id_hash == identity_hash("7")


def test_erased_person_is_not_subscribed_again(ann_everywhere, smtp_settings):
    call_command("ace_erase_recipient", ANN)
    erased = Suppression.objects.get(reason="erased")
    # A new import brings her address back: marketing mail is still denied, by the fingerprint.
    [outcome], _ = send_email(make_message("news", user_id=None, email=ANN))
    assert outcome.status is DeliveryStatus.DENIED and smtp_settings.received_by(ANN) == []
    assert DeliveryLog.objects.filter(status="denied").last().policy.startswith(f"suppressed address #{erased.pk}")
    # Her user id with a new address: denied too.
    [outcome], _ = send_email(make_message("news", user_id=7, email="ann.new@example.com"))
    assert outcome.status is DeliveryStatus.DENIED and smtp_settings.received_by("ann.new@example.com") == []
    # Bob still receives his mail.
    [outcome], _ = send_email(make_message("news", user_id=8, email=BOB))
    assert outcome.status is DeliveryStatus.SENT and len(smtp_settings.received_by(BOB)) == 1


def test_erasure_by_user_id_finds_the_linked_address(ann_everywhere):
    call_command("ace_erase_recipient", "7")
    assert traces_of(ANN) == []
    assert Suppression.objects.filter(reason="erased", address_hash=identity_hash(ANN),
                                      user_id_hash=identity_hash("7")).exists()


def test_campaign_data_is_cleaned_when_campaigns_exist(ann_everywhere):
    if not apps.is_installed("ace_admin") or "audiencemember" not in {
            m._meta.model_name for m in apps.get_app_config("ace_admin").get_models()}:
        pytest.skip("campaign models are not in this version")
    from ace_admin.models import AudienceMember, CampaignBatch

    call_command("ace_erase_recipient", ANN)
    assert list(AudienceMember.objects.values_list("email", flat=True)) == [BOB]
    assert [row["email"] for row in CampaignBatch.objects.get().recipients] == [BOB]


@pytest.mark.parametrize("bad", ["", "   ", "not an address@", "two words"])
def test_invalid_identifier_is_refused_and_changes_nothing(ann_everywhere, bad):
    before = every_value()
    with pytest.raises(CommandError):
        call_command("ace_erase_recipient", bad)
    assert every_value() == before
