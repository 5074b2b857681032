"""The preflight check: a run whose message would render with a missing variable or a template error does not
start and says why; a manager's override starts it and is logged; the form's audience figures."""

from __future__ import annotations

import pytest

from ace_admin.campaigns import preflight, service, tasks
from ace_admin.models import (
    AudienceMember,
    CampaignRun,
    DeliveryLog,
    OptOut,
    PreflightOverride,
    Suppression,
    Template,
    identity_hash,
)
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import ManagerFactory, MessageTypeFactory

COMPLETE = {"platform_name": "Open Learning", "month": "December", "catalog_url": "https://example.org/courses",
            "items": [{"title": "Data science", "url": "https://example.org/ds"}]}


@pytest.fixture
def digest(db):
    """tests/templates/tests/edx_ace/digest/email/: body.html extends a layout and includes a button."""
    return MessageTypeFactory(app_label="tests", name="digest", category="marketing")


def _problems(run):
    return {(finding["kind"], finding["variable"], finding["template"]) for finding in run.findings}


def test_a_missing_variable_blocks_the_launch_and_says_which_for_whom_where(digest, smtp_settings, run_on_commit):
    context = {key: value for key, value in COMPLETE.items() if key not in ("month", "catalog_url")}
    campaign = make_campaign(digest, make_audience(20), context=context)
    run = run_on_commit(tasks.start_run, campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    assert ("undefined", "month", "tests/edx_ace/digest/email/subject.txt") in _problems(run)
    # Found through {% include ... with url=catalog_url %}, in the template that names it.
    assert ("undefined", "catalog_url", "tests/edx_ace/digest/email/body.html") in _problems(run)
    # Not reported: a name the include defines, a |default, an {% if %}-guarded value, the loop variable.
    variables = {finding["variable"] for finding in run.findings}
    assert not variables & {"url", "label", "footer_note", "promo.text", "item.url", "item.title"}
    month = next(finding for finding in run.findings if finding["variable"] == "month")
    assert "p1@example.org" in month["recipients"] and "p20@example.org" in month["recipients"]
    assert "{{ month }} is not defined in tests/edx_ace/digest/email/subject.txt" in run.error
    assert smtp_settings.messages == [] and not DeliveryLog.objects.filter(campaign_run=run).exists()
    assert run.recipients == 0 and run.finished_at is not None


def test_a_variable_in_a_parent_layout_block_and_an_empty_value_are_found(digest, run_on_commit):
    campaign = make_campaign(digest, make_audience(2), context={**COMPLETE, "platform_name": "  "})
    run = run_on_commit(tasks.start_run, campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    assert _problems(run) == {("empty", "platform_name", "tests/edx_ace/digest/email/layout.html"),
                              ("empty", "platform_name", "tests/edx_ace/digest/email/subject.txt")}


def test_a_complete_context_starts_and_sends_to_everyone(digest, smtp_settings, run_on_commit):
    campaign = make_campaign(digest, make_audience(5), context=COMPLETE)
    run = run_on_commit(tasks.start_run, campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.findings == []
    assert sorted(m.rcpt_tos[0] for m in smtp_settings.messages) == [f"p{n}@example.org" for n in range(1, 6)]
    assert smtp_settings.messages[0].message["Subject"] == "Open Learning digest for December"


def test_a_person_missing_a_personal_detail_is_named(digest, run_on_commit):
    audience = make_audience(3)
    AudienceMember.objects.filter(email="p3@example.org").update(context={})  # the last member: always sampled
    run = run_on_commit(tasks.start_run, make_campaign(digest, audience, context=COMPLETE))
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    [finding] = run.findings
    assert (finding["variable"], finding["recipients"], finding["count"]) == ("first_name", ["p3@example.org"], 1)


def test_every_language_is_rendered_with_its_own_templates(digest, run_on_commit):
    audience = make_audience(4)
    AudienceMember.objects.filter(email="p3@example.org").update(language="fr")
    Template.objects.create(name="tests/edx_ace/digest/email/subject.txt", message_type=digest, channel_type="email",
                            part="subject.txt", language="fr", content="{{ platform_name }} : {{ mois }}",
                            published=True)
    run = run_on_commit(tasks.start_run, make_campaign(digest, audience, context=COMPLETE))
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    [finding] = run.findings
    assert (finding["variable"], finding["recipients"], finding["languages"]) == ("mois", ["p3@example.org"], ["fr"])


def test_a_template_error_blocks(digest, run_on_commit):
    Template.objects.create(name="tests/edx_ace/digest/email/subject.txt", message_type=digest, channel_type="email",
                            part="subject.txt", language="", content='{{ platform_name|ljust:"999999" }}',
                            published=True)
    run = run_on_commit(tasks.start_run, make_campaign(digest, make_audience(2), context=COMPLETE))
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED
    assert run.findings[0]["kind"] == "template_error"
    assert run.findings[0]["template"] == "tests/edx_ace/digest/email/subject.txt"


def test_a_manager_override_starts_the_run_and_is_logged(digest, smtp_settings, run_on_commit):
    campaign = make_campaign(digest, make_audience(3), context={**COMPLETE, "month": ""})
    run = run_on_commit(tasks.start_run, campaign)
    manager = ManagerFactory()
    with pytest.raises(ValueError):
        service.override_preflight(run, manager, "  ")
    override = run_on_commit(service.override_preflight, run, manager, "The month is in the subject line only.")
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.sent == 3
    assert len(smtp_settings.messages) == 3
    logged = PreflightOverride.objects.get()
    assert logged == override
    assert (logged.user, logged.username, logged.run, logged.campaign) == (manager, manager.username, run, campaign)
    assert logged.reason == "The month is in the subject line only."
    assert logged.findings and logged.findings[0]["variable"] == "month"
    assert service.override_preflight(run, manager, "again") is None  # not blocked any more


def test_a_blocked_scheduled_occurrence_sends_nothing_and_is_visible(digest, smtp_settings, run_on_commit):
    campaign = make_campaign(digest, make_audience(2), context={}, schedule="interval", every=1, period="days")
    run_id = run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="beat-1").result
    run = CampaignRun.objects.get(pk=run_id)
    assert (run.status, run.trigger, run.task_id) == (CampaignRun.BLOCKED, "schedule", "beat-1")
    assert smtp_settings.messages == []
    # A redelivered firing finds the same run.
    assert run_on_commit(tasks.fire_campaign.apply, (campaign.pk,), task_id="beat-1").result == run.pk


def test_the_form_figures_count_languages_opt_outs_suppressions_and_duration(digest, settings):
    settings.ACE_CAMPAIGN_RATE_LIMITS = {"django_email": 2}
    audience = make_audience(10)
    AudienceMember.objects.filter(email__in=["p1@example.org", "p2@example.org"]).update(language="fr")
    OptOut.objects.create(email="p3@example.org", category="marketing")
    OptOut.objects.create(email="p4@example.org", category="other-things")  # not this category
    Suppression.objects.create(address_hash=identity_hash("p5@example.org"), reason="bounced")
    found = preflight.figures(audience, digest, language="en")
    assert (found["size"], found["opted_out"], found["suppressed"], found["sendable"]) == (10, 1, 1, 8)
    assert found["languages"] == {"en": 8, "fr": 2}
    assert (found["rate"], found["seconds"]) == (2.0, 4.0)
    assert "4 seconds at 2 messages per second" in found["duration"]
