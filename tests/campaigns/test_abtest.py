"""A/B tests: a campaign's message (A) and its variants split the test group, a holdout gets nothing, and the winner
(by unique click or open rate, after the wait) goes to the rest of the audience, nobody mailed twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from ace_admin.campaigns import abtest, service
from ace_admin.content.copying import copy_message_type
from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import (
    Campaign,
    CampaignBatch,
    CampaignRun,
    CampaignVariant,
    DeliveryLog,
    EventType,
    MessageType,
    Template,
)
from ace_admin.reports import queries
from tests.campaigns.conftest import make_audience, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")


def _variant(greeting, manager, subject: str, label="B") -> MessageType:
    """A copy of the greeting with another subject, published as a manager would."""
    copy = copy_message_type(greeting, manager)
    template = Template.objects.get(message_type=copy, part="subject.txt")
    template.content = subject
    template.save(author=manager)
    return copy


def _ab_campaign(greeting, manager, size=400, **fields) -> Campaign:
    values = {"ab_test_percent": 40, "ab_holdout_percent": 10, "ab_winner_rule": Campaign.AB_RULE_CLICK,
              "ab_wait_hours": 4}
    values.update(fields)
    campaign = make_campaign(greeting, make_audience(size), **values)
    CampaignVariant.objects.create(campaign=campaign, label="B", message_type=_variant(
        greeting, manager, "Last chance, {{ first_name }}!"), note="urgent subject")
    return campaign


def _subjects(smtp_settings) -> Counter:
    return Counter("B" if received.message["Subject"].startswith("Last chance") else "A"
                   for received in smtp_settings.messages)


def _click(run, label, count):
    """``count`` people who got variant ``label`` click once, 20 minutes after it was sent (the events ACE's click
    tracking records; a click within seconds of sending would be a link scanner's)."""
    pk = run.ab_plan["variants"][label]
    rows = DeliveryLog.objects.filter(campaign_run=run, message_type_id=pk, status="sent").order_by("pk")[:count]
    ingest([Incoming(EventType.CLICKED, "ace", delivery_id=row.pk, provider_event_id=f"click-{row.pk}",
                     occurred_at=row.finished_at + timedelta(minutes=20), url="https://example.org/course",
                     user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0") for row in rows])


# --- the pure parts ------------------------------------------------------------------------------------------


def test_shares_follow_the_plan_and_do_not_change_when_read_again():
    plan = {"variants": {"A": 1, "B": 2, "C": 3}, "holdout_percent": 10, "test_percent": 30, "rule": "click"}
    rows = [{"id": str(n), "email": f"p{n}@example.org"} for n in range(20_000)]
    first = abtest.split(plan, "seed", rows)
    again = abtest.split(plan, "seed", list(reversed(rows)))
    assert {key: sorted(r["id"] for r in value) for key, value in first.items()} == {
        key: sorted(r["id"] for r in value) for key, value in again.items()}
    sizes = {key: len(value) for key, value in first.items()}
    assert abs(sizes[abtest.HOLDOUT] - 2000) < 200
    for label in "ABC":
        assert abs(sizes[label] - 2000) < 200
    assert abs(sizes[""] - 12_000) < 300
    assert abtest.split(plan, "another seed", rows)["A"] != first["A"]  # each run draws anew


def test_confidence_is_a_two_proportion_z_test():
    # 100/1000 vs 150/1000: z = 3.38, two-sided p = 0.0007
    assert abtest.confidence(150, 1000, 100, 1000) == pytest.approx(0.99927, abs=1e-4)
    assert abtest.confidence(10, 100, 10, 100) == pytest.approx(0.0)
    assert abtest.confidence(0, 100, 0, 100) is None  # nothing happened yet: no data, not 0%
    assert abtest.confidence(1, 0, 1, 10) is None
    # Three variants against the leader: each p-value counts three times (Bonferroni), 0.0007 -> 0.0022.
    assert abtest.confidence(150, 1000, 100, 1000, comparisons=3) == pytest.approx(0.99781, abs=1e-4)
    clicks = {"A": 100, "B": 150, "C": 100, "D": 100}
    figures = {label: {"sent": 1000, "clicked": clicked} for label, clicked in clicks.items()}
    assert abtest.decide("click", figures)[1]["confidence"]["A"] == pytest.approx(0.99781, abs=1e-4)


def test_the_winner_is_the_highest_rate_and_a_tie_keeps_the_campaigns_own_message():
    figures = {"A": {"sent": 100, "clicked": 5, "opened": 40}, "B": {"sent": 100, "clicked": 9, "opened": 30}}
    assert abtest.decide("click", figures)[0] == "B"
    assert abtest.decide("open", figures)[0] == "A"
    assert abtest.decide("click", {"A": {"sent": 10}, "B": {"sent": 10}})[0] == "A"


# --- a run ---------------------------------------------------------------------------------------------------


def test_the_winner_goes_to_the_rest_and_nobody_is_mailed_twice(greeting, manager, smtp_settings, run_on_commit):
    campaign = _ab_campaign(greeting, manager)
    run = run_on_commit(service.start_run, campaign)
    run.refresh_from_db()

    # The test group went out at once, split between A and B; the rest waits for the winner; the holdout waits for
    # nothing.
    assert run.status == CampaignRun.RUNNING and run.findings == []
    tested = _subjects(smtp_settings)
    assert 50 <= tested["A"] <= 110 and 50 <= tested["B"] <= 110
    waiting = sum(CampaignBatch.objects.filter(run=run, status=CampaignBatch.WAITING).values_list("size", flat=True))
    assert run.held_out + waiting + tested["A"] + tested["B"] == 400
    assert 20 <= run.held_out <= 65
    assert service.decide_winner(run.pk) == "not yet"

    _click(run, "A", 2)  # a clear difference whatever the draw of the split (50-110 people per variant)
    _click(run, "B", 30)
    started = run.started_at
    assert run_on_commit(service.decide_winner, run.pk, now=started + timedelta(hours=4, minutes=1)) == "winner B"
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.winner == "B"
    assert run.winner_figures["confidence"]["A"] > 0.95

    received = Counter(to for received in smtp_settings.messages for to in received.rcpt_tos)
    assert set(received.values()) == {1}, "nobody is mailed twice"
    assert len(received) == 400 - run.held_out
    subjects = _subjects(smtp_settings)
    assert subjects["A"] == tested["A"] and subjects["B"] == 400 - run.held_out - tested["A"]
    held = {row["email"] for batch in CampaignBatch.objects.filter(run=run, variant=abtest.HOLDOUT)
            for row in batch.recipients}
    assert len(held) == run.held_out and not held & set(received)
    assert run.sent == 400 - run.held_out
    # A second decision (the task and the watcher both firing) changes nothing.
    assert service.decide_winner(run.pk, now=started + timedelta(hours=5)) == "nothing to decide"
    assert len(smtp_settings.messages) == 400 - run.held_out


def test_the_report_shows_each_variants_funnel_and_how_sure_the_difference_is(greeting, manager, smtp_settings,
                                                                            run_on_commit):
    campaign = _ab_campaign(greeting, manager, ab_winner_rule=Campaign.AB_RULE_NONE, ab_holdout_percent=0)
    run = run_on_commit(service.start_run, campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and run.sent == 400  # no winner rule: everyone is split, nobody waits
    _click(run, "B", 30)
    rows = {row["variant"]: row for row in queries.report_for_run(run)["variants"]}
    assert rows["A"]["sent"] + rows["B"]["sent"] == 400
    assert rows["B"]["clicked"] == 30 and rows["A"]["clicked"] == 0
    assert rows["B"]["leader"] and rows["A"]["confidence"] > 0.99
    assert rows["B"]["note"] == "urgent subject"


def test_a_manager_may_send_a_variant_to_the_rest_before_the_wait_is_over(greeting, manager, smtp_settings,
                                                                         run_on_commit, client,
                                                                         django_capture_on_commit_callbacks):
    campaign = _ab_campaign(greeting, manager)
    run = run_on_commit(service.start_run, campaign)
    client.force_login(manager)
    page = client.get(reverse("admin:ace_admin_campaignrun_change", args=[run.pk]))
    assert b"Send B to the rest now" in page.content and b"A/B test of A, B" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:ace_admin_campaignrun_control", args=[run.pk, "choose-A"]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.winner == "A" and run.winner_figures["chosen_by"] == "boss" and run.status == CampaignRun.DONE
    assert len({to for received in smtp_settings.messages for to in received.rcpt_tos}) == 400 - run.held_out
    assert client.post(reverse("admin:ace_admin_campaignrun_control", args=[run.pk, "choose-Z"])).status_code == 302


def test_a_variant_with_a_missing_variable_blocks_the_launch(greeting, manager, smtp_settings, run_on_commit):
    campaign = _ab_campaign(greeting, manager)
    broken = campaign.variants.get().message_type
    template = Template.objects.get(message_type=broken, part="subject.txt")
    template.content = "Hurry {{ first_name }}, {{ deadline }} is near"
    template.save(author=manager)
    run = run_on_commit(service.start_run, campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.BLOCKED and smtp_settings.messages == []
    assert "deadline" in run.error and f"{broken.name}/email/subject.txt" in run.error


def test_the_variants_form_refuses_the_campaigns_own_message_and_another_category(greeting, manager, client):
    campaign = _ab_campaign(greeting, manager)
    other = MessageType.objects.create(app_label="tests", name="receipt", category="account")
    client.force_login(manager)
    url = reverse("admin:ace_admin_campaign_change", args=[campaign.pk])
    form = client.get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key != "periodic_task"}
    data.update({"context": '{"code": "C0DE", "site": "example.org"}', "options": "{}", "params": "{}",
                 "message_type": greeting.pk, "audience": campaign.audience_id,
                 "variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "1", "variants-MIN_NUM_FORMS": "0",
                 "variants-MAX_NUM_FORMS": "3",
                 "variants-0-id": campaign.variants.get().pk, "variants-0-campaign": campaign.pk,
                 "variants-0-label": "B", "variants-0-message_type": greeting.pk, "variants-0-note": "",
                 "variants-1-label": "C", "variants-1-message_type": other.pk, "variants-1-note": ""})
    data = {key: ("" if value is None else value) for key, value in data.items()}
    for key in ("run_at", "local_send_time"):
        data.pop(key, None)
    response = client.post(url, data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "the campaign&#x27;s own message (variant A)" in text
    assert "in the category &#x27;account&#x27;" in text
    assert campaign.variants.get().message_type.name == "greeting_b"  # nothing saved


def test_copying_a_message_type_copies_what_is_sent(greeting, manager):
    copy = copy_message_type(greeting, manager)
    assert copy.name == "greeting_b" and copy.category == greeting.category
    parts = set(Template.objects.filter(message_type=copy, published=True).values_list("part", flat=True))
    assert {"subject.txt", "body.html", "body.txt"} <= parts
    assert copy_message_type(greeting, manager).name == "greeting_c"
    editor = get_user_model().objects.create_user("ed", "ed@example.org", "pw", is_staff=True)
    drafts = copy_message_type(greeting, editor)
    assert not Template.objects.filter(message_type=drafts, published=True).exists()
    assert Template.objects.filter(message_type=drafts, draft_content__contains="first_name").exists()


def test_the_form_figures_say_how_the_audience_splits(greeting, manager, client):
    campaign = _ab_campaign(greeting, manager, size=1000)
    client.force_login(manager)
    url = reverse("admin:ace_admin_campaign_figures")
    found = client.get(url, {"audience": campaign.audience_id, "message_type": greeting.pk, "variants": "2",
                             "ab_test_percent": "30", "ab_holdout_percent": "10", "ab_winner_rule": "click",
                             "ab_wait_hours": "6"}).json()
    assert found["ab_text"] == ("A/B test, about: A 100, B 100, C 100 in the test; 100 held out; 600 get the winner "
                                "6 h after the run starts.")
    found = client.get(url, {"audience": campaign.audience_id, "variants": "1", "ab_winner_rule": "none"}).json()
    assert found["ab_text"] == "A/B split, about: A 500, B 500."
    assert client.get(url, {"audience": campaign.audience_id}).json()["ab_text"] == ""


def test_a_test_send_from_the_campaign_sends_every_variant(greeting, manager, smtp_settings, client):
    campaign = _ab_campaign(greeting, manager)
    MessageType.objects.filter(pk=greeting.pk).update(seed_addresses="seed@example.org")
    client.force_login(manager)
    response = client.post(reverse("admin:ace_admin_campaign_test", args=[campaign.pk]), follow=True)
    texts = [str(message) for message in response.context["messages"]]
    assert "Test to seed@example.org: sent." in texts and "Test to seed@example.org (variant B): sent." in texts
    assert sorted(_subjects(smtp_settings).elements()) == ["A", "B"]
    assert all(received.rcpt_tos == ["seed@example.org"] for received in smtp_settings.messages)
