"""ACE's own open and click tracking: links rewritten only for tracked message types, redirects only to URLs that
were in that message, unsubscribe links untouched, machine opens and scanner clicks flagged."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from ace_admin.events import tracking
from ace_admin.events.buffer import Buffer
from ace_admin.events.ingest import Incoming
from ace_admin.models import DeliveryEvent, EventDailyCount, EventType
from tests.ace_admin.conftest import html_of

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def _links(html):
    return re.findall(r'href="([^"]+)"', html)


def _path(url):
    return urlsplit(url).path


def test_a_tracked_message_has_its_links_rewritten_but_not_unsubscribe_or_mailto(sent):
    _, email = sent("news")
    html = html_of(email)
    links = _links(html)
    clicks = [link for link in links if "/ace/t/c/" in link]
    assert len(clicks) == 2
    assert "mailto:help@example.org" in links
    unsubscribe = email.extra_headers["List-Unsubscribe"].split(",")[0].strip("<> ")
    assert unsubscribe in links  # the same link as the header: one-click unsubscribe keeps working
    assert re.search(r'<img src="[^"]+/ace/t/o/[^"]+\.gif"', html)
    assert html.index("/ace/t/o/") < html.index("</body>")


def test_a_transactional_message_is_not_tracked(sent):
    _, email = sent("receipt")
    assert "/ace/t/" not in html_of(email)


def test_a_click_redirects_to_the_link_that_was_in_that_message_and_is_recorded(sent, client):
    row, email = sent("news")
    link = next(link for link in _links(html_of(email)) if "/ace/t/c/" in link)
    response = client.get(_path(link), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302 and response["Location"] == "https://shop.example.org/spring?a=1&b=2"
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.event_type, event.link.url) == (row, EventType.CLICKED, response["Location"])


def test_no_open_redirect_a_link_id_signed_for_another_message_or_tampered_is_refused(sent, client):
    row, email = sent("news")
    other, _ = sent("news", email="bob@example.com")
    link = next(link for link in _links(html_of(email)) if "/ace/t/c/" in link)
    message_uuid, link_id = tracking.read_click(_path(link).rsplit("/", 1)[1])
    assert message_uuid == row.message_uuid
    forged = tracking.signing.b64(other.message_uuid.bytes + link_id.to_bytes(4, "big") + b"\0" * 10)
    assert client.get(f"/ace/t/c/{forged}").status_code == 404
    token = _path(link).rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/ace/t/c/{tampered}").status_code == 404
    assert not DeliveryEvent.objects.exists()


def test_scanners_and_machine_opens_are_flagged_not_counted_as_people(sent, client, settings):
    settings.ACE_TRACKING_SCANNER_SECONDS = 0  # timing aside: judge by request only
    row, email = sent("news")
    html = html_of(email)
    link = next(link for link in _links(html) if "/ace/t/c/" in link)
    pixel = re.search(r'<img src="([^"]+)"', html).group(1)
    client.head(_path(link), HTTP_USER_AGENT=BROWSER)
    client.get(_path(link), HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)")
    client.get(_path(pixel), HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.101.12")  # Apple's privacy proxy
    client.get(_path(pixel), HTTP_USER_AGENT=BROWSER)
    reasons = sorted(DeliveryEvent.objects.values_list("event_type", "machine_reason"))
    assert reasons == [
        (EventType.CLICKED, "HEAD request (link scanner)"), (EventType.CLICKED, "automated user agent (barracuda)"),
        (EventType.OPENED, ""), (EventType.OPENED, "Apple Mail Privacy Protection (Apple network)")]
    opened = EventDailyCount.objects.get(event_type=EventType.OPENED)
    clicked = EventDailyCount.objects.get(event_type=EventType.CLICKED)
    assert (opened.events, opened.unique_messages, opened.machine_events) == (1, 1, 1)
    assert (clicked.events, clicked.machine_events) == (0, 2)


def test_a_click_seconds_after_sending_is_a_scanners(sent, client):
    _, email = sent("news")
    link = next(link for link in _links(html_of(email)) if "/ace/t/c/" in link)
    client.get(_path(link), HTTP_USER_AGENT=BROWSER)
    assert DeliveryEvent.objects.get().machine_reason.startswith("clicked within")


def test_the_buffer_writes_later_in_one_go(sent, settings):
    settings.ACE_TRACKING_FLUSH_SECONDS = 60
    row, _ = sent("news")
    buffer = Buffer()
    for n in range(3):
        buffer.add(Incoming(EventType.OPENED, "ace", provider_event_id=f"o{n}", message_uuid=row.message_uuid,
                            user_agent=BROWSER))
    assert not DeliveryEvent.objects.exists()
    assert buffer.flush() == 3
    assert DeliveryEvent.objects.filter(delivery=row).count() == 3
