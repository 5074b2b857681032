"""One-click unsubscribe: headers on marketing mail only, POST opts out, GET does not, forged tokens change nothing."""

from __future__ import annotations

import pytest

from ace.outcome import DeliveryStatus
from ace_admin.models import OptOut
from ace_admin.privacy import links
from tests.privacy.conftest import html_of, log_rows, make_message, path_of, send_email, unsubscribe_link

pytestmark = pytest.mark.django_db


def test_marketing_email_carries_one_click_headers_and_links(message_types, settings):
    settings.ACE_PUBLIC_BASE_URL = "https://news.example.org/"
    _, email = send_email(make_message("news"))
    url = unsubscribe_link(email)
    assert url.startswith("https://news.example.org/ace/unsubscribe/")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = html_of(email)
    assert f'href="{url}"' in body  # {{ unsubscribe_url }} is the very link of the header
    assert 'href="https://news.example.org/ace/preferences/' in body
    # The header survives into the MIME message as one RFC 2369 value.
    raw = email.message()
    assert raw["List-Unsubscribe"].replace("\n", "").replace(" ", "") == f"<{url}>"


def test_transactional_email_has_no_unsubscribe_header_but_a_preferences_link(message_types):
    _, email = send_email(make_message("receipt"))
    assert "List-Unsubscribe" not in email.extra_headers
    assert "List-Unsubscribe-Post" not in email.extra_headers
    assert "List-Unsubscribe" not in email.message()
    body = html_of(email)
    assert "Unsubscribe" not in body and "/ace/preferences/" in body


def test_message_marked_transactional_by_its_sender_has_no_header(message_types):
    _, email = send_email(make_message("news", options={"transactional": True}))
    assert "List-Unsubscribe" not in email.extra_headers


def test_mailto_is_added_when_configured(message_types, settings):
    settings.ACE_UNSUBSCRIBE_MAILTO = "leave@example.org"
    _, email = send_email(make_message("news"))
    https, mailto = [part.strip() for part in email.extra_headers["List-Unsubscribe"].split(",")]
    assert https.startswith("<http://127.0.0.1:8000/ace/unsubscribe/")
    assert mailto.startswith("<mailto:leave@example.org?subject=unsubscribe%20") and mailto.endswith(">")


def test_headers_reach_a_real_smtp_server(message_types, smtp_settings):
    send_email(make_message("news", email="bob@example.com"))
    [received] = smtp_settings.received_by("bob@example.com")
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/ace/unsubscribe/" in received.message["List-Unsubscribe"]
    send_email(make_message("receipt", email="bob@example.com"))
    receipt = smtp_settings.received_by("bob@example.com")[-1]
    assert receipt.message["Subject"] == "receipt subject" and receipt.message["List-Unsubscribe"] is None


def test_post_opts_out_with_200_and_no_redirect(message_types, client):
    _, email = send_email(make_message("news"))
    response = client.post(path_of(unsubscribe_link(email)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    [opt_out] = OptOut.objects.all()
    assert (opt_out.email, opt_out.lms_user_id, opt_out.category, opt_out.source) == (
        "ann@example.com", "7", "newsletter", "unsubscribe")
    # Mailbox providers may post twice: still one opt-out.
    assert client.post(path_of(unsubscribe_link(email)), {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert OptOut.objects.count() == 1


def test_post_without_csrf_token_or_cookie_is_accepted(message_types, settings):
    from django.test import Client

    _, email = send_email(make_message("news"))
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(path_of(unsubscribe_link(email)), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and OptOut.objects.count() == 1


def test_get_never_unsubscribes_and_offers_a_button_and_preferences(message_types, client):
    _, email = send_email(make_message("news"))
    response = client.get(path_of(unsubscribe_link(email)))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post"' in page and "<button" in page and "/ace/preferences/" in page
    assert client.head(path_of(unsubscribe_link(email))).status_code == 200
    assert OptOut.objects.count() == 0
    _, again = send_email(make_message("news"))
    assert again is not None


def _tampered(token: str) -> list[str]:
    value, _, signature = token.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other = links.make_token(links.Subscriber(user_id="8", email="eve@example.com", category="newsletter"))
    return [
        f"{value}:{flipped}",  # signature altered
        f"{value[:-2]}xx:{signature}",  # payload altered
        token[:-5],  # truncated
        f"{other.rpartition(':')[0]}:{signature}",  # someone else's payload under this signature
        links.make_token(links.Subscriber(user_id="7", email="ann@example.com"), links.PREFERENCES_SALT),  # wrong salt
        "not-a-token",
    ]


def test_tampered_token_is_refused_with_400_and_changes_nothing(message_types, client):
    _, email = send_email(make_message("news"))
    token = path_of(unsubscribe_link(email)).rstrip("/").rsplit("/", 1)[1]
    for bad in _tampered(token):
        for method in (client.post, client.get):
            response = method(f"/ace/unsubscribe/{bad}/")
            assert response.status_code == 400, (bad, method)
    assert OptOut.objects.count() == 0
    _, again = send_email(make_message("news"))
    assert again is not None


def test_opted_out_recipient_is_denied_and_the_log_names_the_opt_out(message_types, client):
    _, email = send_email(make_message("news"))
    client.post(path_of(unsubscribe_link(email)))
    opt_out = OptOut.objects.get()
    [outcome], delivered = send_email(make_message("news"))
    assert delivered is None and outcome.status is DeliveryStatus.DENIED
    row = log_rows(status="denied")[-1]
    assert row.recipient_address == "ann@example.com"
    assert row.policy == f"opt-out #{opt_out.pk} (category newsletter)"
    # Another category, and a transactional message, still reach them.
    assert send_email(make_message("offers"))[1] is not None
    [outcome], receipt = send_email(make_message("receipt"))
    assert outcome.status is DeliveryStatus.SENT and receipt.to == ["ann@example.com"]


def test_message_without_category_unsubscribes_from_that_message_type_only(message_types, client):
    from ace_admin.models import MessageType

    MessageType.objects.filter(name="news").update(category="")
    _, email = send_email(make_message("news"))
    client.post(path_of(unsubscribe_link(email)))
    opt_out = OptOut.objects.get()
    assert opt_out.category == "" and opt_out.message_type == message_types["news"]
    assert send_email(make_message("news"))[1] is None
    assert send_email(make_message("offers"))[1] is not None


def test_pages_speak_the_language_of_the_email(message_types, client):
    _, email = send_email(make_message("news", language="fr"))
    page = client.get(path_of(unsubscribe_link(email))).content.decode()
    assert 'lang="fr"' in page and "Se désabonner" in page
    done = client.post(path_of(unsubscribe_link(email))).content.decode()
    assert "Vous êtes désabonné" in done
