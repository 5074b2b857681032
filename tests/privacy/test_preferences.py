"""The preference page: categories on and off, unsubscribe from all marketing, no login, no JavaScript needed."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ace_admin.models import OptOut
from ace_admin.privacy import links
from tests.privacy.conftest import html_of, make_message, path_of, send_email

pytestmark = pytest.mark.django_db


def preferences_path(message_types, **message):
    _, email = send_email(make_message(**message))
    url = re.search(r'href="([^"]*/ace/preferences/[^"]+)"', html_of(email))[1]
    return path_of(url)


def checkboxes(page: str) -> dict[str, bool]:
    found = {}
    for tag in re.findall(r'<input type="checkbox"[^>]*>', page):
        found[re.search(r'value="([^"]+)"', tag)[1]] = " checked" in tag
    return found


def test_page_lists_marketing_categories_with_labels_and_no_transactional_one(message_types):
    client = Client(enforce_csrf_checks=True)
    page = client.get(preferences_path(message_types)).content.decode()
    assert checkboxes(page) == {"newsletter": True, "offers": True}
    assert '<label for="category-1">Newsletter</label>' in page
    assert "<legend>" in page and "<script" not in page
    response = client.get(preferences_path(message_types))
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin" and "no-cache" in response["Cache-Control"]
    assert "ann@example.com" in page


def test_switching_a_category_off_denies_that_category_only(message_types):
    client = Client(enforce_csrf_checks=True)
    url = preferences_path(message_types)
    page = client.get(url).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = client.post(url, {"csrfmiddlewaretoken": csrf, "category": ["offers"], "action": "save"})
    assert response.status_code == 302 and response["Location"].endswith("?saved=1")
    saved = client.get(response["Location"]).content.decode()
    assert checkboxes(saved) == {"newsletter": False, "offers": True} and "Your choices are saved." in saved
    [opt_out] = OptOut.objects.all()
    assert (opt_out.category, opt_out.email, opt_out.lms_user_id) == ("newsletter", "ann@example.com", "7")
    assert send_email(make_message("news"))[1] is None
    assert send_email(make_message("offers"))[1] is not None
    # Back on: the opt-out goes away and mail flows again.
    client.post(url, {"csrfmiddlewaretoken": csrf, "category": ["offers", "newsletter"], "action": "save"})
    assert OptOut.objects.count() == 0
    assert send_email(make_message("news"))[1] is not None


def test_unsubscribe_from_all_marketing_in_one_click(message_types, client):
    url = preferences_path(message_types)
    response = client.post(url, {"action": "unsubscribe_all"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "You are unsubscribed from all marketing emails." in page
    assert checkboxes(page) == {"newsletter": False, "offers": False}
    [opt_out] = OptOut.objects.all()
    assert opt_out.category == "" and opt_out.message_type is None
    assert send_email(make_message("news"))[1] is None and send_email(make_message("offers"))[1] is None
    assert send_email(make_message("receipt"))[1] is not None  # transactional still arrives
    # Ticking a category and saving re-subscribes to that one only.
    client.post(url, {"category": ["offers"], "action": "save"})
    assert list(OptOut.objects.values_list("category", flat=True)) == ["newsletter"]
    assert send_email(make_message("offers"))[1] is not None


def test_post_without_csrf_token_is_refused_and_changes_nothing(message_types):
    client = Client(enforce_csrf_checks=True)
    url = preferences_path(message_types)
    assert client.post(url, {"action": "unsubscribe_all"}).status_code == 403
    assert OptOut.objects.count() == 0


def test_unknown_category_in_the_form_is_ignored(message_types, client):
    url = preferences_path(message_types)
    client.post(url, {"category": ["newsletter", "offers", "<script>"], "action": "save"})
    assert OptOut.objects.count() == 0


def test_tampered_preferences_link_is_refused(message_types, client):
    url = preferences_path(message_types)
    token = url.rstrip("/").rsplit("/", 1)[1]
    value, _, signature = token.rpartition(":")
    bad = f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    assert client.get(f"/ace/preferences/{bad}/").status_code == 400
    assert client.post(f"/ace/preferences/{bad}/", {"action": "unsubscribe_all"}).status_code == 400
    unsubscribe_token = links.make_token(links.Subscriber(user_id="7", email="ann@example.com"))
    assert client.get(f"/ace/preferences/{unsubscribe_token}/").status_code == 400  # other salt
    assert OptOut.objects.count() == 0


def test_page_in_french(message_types, client):
    page = client.get(preferences_path(message_types, language="fr")).content.decode()
    assert 'lang="fr"' in page and "Enregistrer mes choix" in page
    assert "Me désabonner de tous les e-mails marketing" in page


def test_transactional_mail_links_to_the_preference_page_too(message_types, client):
    page = client.get(preferences_path(message_types, name="receipt")).content.decode()
    assert checkboxes(page) == {"newsletter": True, "offers": True}
