"""Campaign batches and ``ace.send`` run the same pipeline and write the same delivery-log rows."""

from __future__ import annotations

import re
import uuid

import pytest

from ace import ace
from ace.errors import InvalidMessageError
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.campaigns import tasks
from ace_admin.models import Audience, AudienceMember, DeliveryLog, MessageType, OptOut, PolicyRule, Suppression
from tests.campaigns.conftest import make_audience, make_campaign

pytestmark = pytest.mark.django_db

#: Columns that differ by nature between two sends of the same message: ids, times, the run reference.
UNCOMPARED = {"id", "message_uuid", "send_uuid", "created_at", "finished_at", "campaign_run"}


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _rows(**where) -> list[dict]:
    fields = [field.attname for field in DeliveryLog._meta.concrete_fields if field.name not in UNCOMPARED]
    rows = list(DeliveryLog.objects.filter(**where).order_by("channel_type").values(*fields))
    for row in rows:
        row["error"] = _UUID.sub("<id>", row["error"])  # an error may name the message by its ids
    return rows


@pytest.fixture(autouse=True)
def _unchecked(settings):
    """Runs start without their preflight check, which would block the broken messages: here the run's own
    handling is compared with ``ace.send``'s (tests/campaigns/test_preflight.py covers the check)."""
    settings.ACE_CAMPAIGN_PREFLIGHT = False


def _campaign_then_send(message_type, smtp_settings, run_on_commit) -> tuple[list[dict], list[dict]]:
    """The delivery-log rows of a one-person campaign over every channel type (email, push), and of ``ace.send``
    of the message it built."""
    campaign = make_campaign(message_type, make_audience(1), channels="all")
    run = run_on_commit(tasks.start_run, campaign)
    campaign_rows = _rows(campaign_run=run)
    assert campaign_rows, "the campaign logged nothing"
    Suppression.objects.all().delete()  # a refusal for good suppressed the address: not the point here
    message = Message(app_label=message_type.app_label, name=message_type.name,
                      recipient=Recipient(lms_user_id="1", email_address="p1@example.org"),
                      context={**campaign.context, "first_name": "P1"}, options=dict(campaign.options or {}),
                      send_uuid=uuid.uuid4())
    ace.send(message)
    return campaign_rows, _rows(campaign_run__isnull=True, message_uuid=message.uuid)


def test_sent(greeting, smtp_settings, run_on_commit):
    campaign_rows, send_rows = _campaign_then_send(greeting, smtp_settings, run_on_commit)
    assert campaign_rows == send_rows
    assert [(row["channel_type"], row["status"]) for row in send_rows] == [("email", "sent"), ("push", "sent")]
    assert len(smtp_settings.messages) == 2  # both emails went out


def test_denied_by_an_opt_out_names_it(greeting, smtp_settings, run_on_commit):
    opt_out = OptOut.objects.create(email="p1@example.org", category="marketing")
    campaign_rows, send_rows = _campaign_then_send(greeting, smtp_settings, run_on_commit)
    assert campaign_rows == send_rows
    assert {(row["status"], row["policy"]) for row in send_rows} == {
        ("denied", f"opt-out #{opt_out.pk} (category marketing)")}
    assert smtp_settings.messages == []


def test_denied_by_a_rule_names_the_rule(greeting, smtp_settings, run_on_commit):
    rule = PolicyRule.objects.create(kind="deny", message_type=greeting, description="no greetings today")
    campaign_rows, send_rows = _campaign_then_send(greeting, smtp_settings, run_on_commit)
    assert campaign_rows == send_rows
    assert {row["policy"] for row in send_rows} == {rule.label}


def test_refused_for_good(greeting, smtp_settings, run_on_commit):
    smtp_settings.refuse_rcpt("p1@example.org", "550 5.1.1 No such user")
    campaign_rows, send_rows = _campaign_then_send(greeting, smtp_settings, run_on_commit)
    assert campaign_rows == send_rows
    assert send_rows[0]["status"] == "failed" and "550" in send_rows[0]["error"]


def test_template_missing(smtp_settings, run_on_commit):
    nothing = MessageType.objects.create(app_label="tests", name="no_such_templates", category="marketing")
    campaign_rows, send_rows = _campaign_then_send(nothing, smtp_settings, run_on_commit)
    assert campaign_rows == send_rows
    assert [row["status"] for row in send_rows] == ["template_missing", "template_missing"]


def test_invalid_message_goes_nowhere_in_campaigns_too(greeting, smtp_settings, run_on_commit):
    """Campaign batches have every channel check the message first, as ace.send does (they used to skip it and
    sent the push notification of a person without an email address)."""
    audience = Audience.objects.create(name="No address")
    AudienceMember.objects.create(audience=audience, lms_user_id="7", email="")
    campaign = make_campaign(greeting, audience, channels="all")
    run = run_on_commit(tasks.start_run, campaign)
    message = Message(app_label="tests", name="greeting", recipient=Recipient(lms_user_id="7"),
                      context={**campaign.context}, send_uuid=uuid.uuid4())
    with pytest.raises(InvalidMessageError):
        ace.send(message)
    send_rows = _rows(campaign_run__isnull=True, message_uuid=message.uuid)
    assert _rows(campaign_run=run) == send_rows
    assert {row["status"] for row in send_rows} == {"failed"}
    assert smtp_settings.messages == []
