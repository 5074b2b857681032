"""Admin: suppressions searchable, exportable and liftable; opt-out counts per category; erasure form and actions."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ace_admin.models import OptOut, Suppression, identity_hash
from ace_admin.privacy import suppression
from tests.factories import OptOutFactory, StaffFactory, SuperuserFactory, SuppressionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = SuperuserFactory(username="boss")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def suppressed():
    return [suppression.suppress("gone@example.com", reason="bounce", details="550 5.1.1 No such user",
                                 source="django_email"),
            suppression.suppress("old@example.com", reason="manual", source="admin")]


def test_suppressions_are_listed_with_their_reason_and_searchable(staff, suppressed):
    url = reverse("admin:ace_admin_suppression_changelist")
    page = staff.get(url).content.decode()
    assert "gone@example.com" in page and "550 5.1.1 No such user" in page
    assert "Delivery failed for good" in page
    found = staff.get(url, {"q": "gone@"}).content.decode()
    assert "gone@example.com" in found and "old@example.com" not in found


def test_an_erased_address_is_found_by_its_fingerprint(staff):
    SuppressionFactory(address_hash=identity_hash("erased@example.com"), reason="erased", source="erasure")
    suppression.suppress("other@example.com", reason="bounce")
    page = staff.get(reverse("admin:ace_admin_suppression_changelist"), {"q": "Erased@Example.com"}).content.decode()
    assert f"erased (fingerprint {identity_hash('erased@example.com')[:12]}" in page
    assert "other@example.com" not in page


def test_lift_action_records_who_and_when(staff, suppressed):
    response = staff.post(reverse("admin:ace_admin_suppression_changelist"),
                          {"action": "lift", "_selected_action": [suppressed[0].pk]})
    assert response.status_code == 302
    lifted = Suppression.objects.get(pk=suppressed[0].pk)
    assert lifted.lifted_at is not None and lifted.lifted_by == staff.user
    assert Suppression.objects.get(pk=suppressed[1].pk).lifted_at is None
    in_force = staff.get(reverse("admin:ace_admin_suppression_changelist"), {"in_force": "yes"}).content.decode()
    assert "old@example.com" in in_force and "gone@example.com" not in in_force


def test_suppressions_export_as_csv(staff, suppressed):
    fields = ["id", "email", "address_hash", "user_id_hash", "reason", "details", "source", "created_at",
              "lifted_at"]
    data = {"format": "0", "resource": "0", **{f"suppressionresource_{name}": "on" for name in fields}}
    response = staff.post(reverse("admin:ace_admin_suppression_export"), data)
    assert response.status_code == 200, response.content[:500]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["email"]: row["reason"] for row in rows} == {"gone@example.com": "bounce", "old@example.com": "manual"}
    assert rows[0]["address_hash"] == identity_hash(rows[0]["email"])


def test_staff_adds_a_suppression_by_hand(staff):
    response = staff.post(reverse("admin:ace_admin_suppression_add"),
                          {"email": "Someone@Example.com", "reason": "complaint", "details": "spam report",
                           "source": ""})
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert (entry.email, entry.source, entry.address_hash) == (
        "someone@example.com", "admin", identity_hash("someone@example.com"))


def test_opt_out_changelist_counts_per_category(staff):
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        OptOutFactory(email=email, category="newsletter")
    OptOutFactory(email="a@example.com", category="")
    page = staff.get(reverse("admin:ace_admin_optout_changelist")).content.decode()
    table = page[page.index('id="optout-counts"'):page.index("</table>", page.index('id="optout-counts"'))]
    assert "<td>category newsletter</td><td>3</td>" in table
    assert "<td>all non-transactional messages</td><td>1</td>" in table
    assert "b@example.com" in staff.get(reverse("admin:ace_admin_optout_changelist"), {"q": "b@"}).content.decode()


def test_erase_form_erases_and_keeps_a_fingerprint(staff):
    OptOutFactory(email="ann@example.com", lms_user_id="7", category="newsletter")
    url = reverse("admin:ace_admin_erase_recipient")
    assert staff.get(url).status_code == 200
    refused = staff.post(url, {"identifier": "ann@example.com"})  # not confirmed
    assert refused.status_code == 200 and OptOut.objects.count() == 1
    invalid = staff.post(url, {"identifier": "not valid@", "confirm": "on"})
    assert "is not a valid email address" in invalid.content.decode() and OptOut.objects.count() == 1
    response = staff.post(url, {"identifier": "ann@example.com", "confirm": "on"})
    assert response.status_code == 302
    assert OptOut.objects.count() == 0
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason, entry.address_hash) == ("", "erased", identity_hash("ann@example.com"))


def test_erase_action_on_opt_outs(staff):
    kept = OptOutFactory(email="bob@example.com", category="newsletter")
    gone = OptOutFactory(email="ann@example.com", category="newsletter")
    staff.post(reverse("admin:ace_admin_optout_changelist"), {"action": "erase", "_selected_action": [gone.pk]})
    assert list(OptOut.objects.all()) == [kept]
    assert Suppression.objects.get().address_hash == identity_hash("ann@example.com")


def test_erasure_needs_permission(client):
    user = StaffFactory(username="viewer", email="v@example.org")
    client.force_login(user)
    assert client.get(reverse("admin:ace_admin_erase_recipient")).status_code == 403
