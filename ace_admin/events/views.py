"""The events wing's public endpoints: the open image, click redirects, and raw bounce mail posted by an MTA."""

from __future__ import annotations

import base64
import functools
import hmac
import uuid

from django.http import HttpResponse, HttpResponseNotFound, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ace_admin.events import bounces, machines, tracking
from ace_admin.events.buffer import buffer
from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import EventType, TrackedLink
from ace_admin.settings import admin_settings

#: A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, private"


@functools.lru_cache(maxsize=20_000)
def _link_url(link_id: int) -> str | None:
    return TrackedLink.objects.filter(pk=link_id).values_list("url", flat=True).first()


def _agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]


@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token):
    message_uuid = tracking.read_open(token)
    if message_uuid is not None:
        agent = _agent(request)
        buffer.add(Incoming(
            event_type=EventType.OPENED, provider="ace", occurred_at=timezone.now(),
            provider_event_id=uuid.uuid4().hex, message_uuid=message_uuid, user_agent=agent,
            machine_reason=machines.open_reason(agent, request.META.get("REMOTE_ADDR"))))
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    return response


@require_http_methods(["GET", "HEAD"])
def click(request, token):
    found = tracking.read_click(token)
    url = _link_url(found[1]) if found is not None else None
    if url is None:  # not a link ACE put into that message: never redirect
        return HttpResponseNotFound("Unknown link.", content_type="text/plain")
    agent = _agent(request)
    buffer.add(Incoming(
        event_type=EventType.CLICKED, provider="ace", occurred_at=timezone.now(), provider_event_id=uuid.uuid4().hex,
        message_uuid=found[0], link_id=found[1], user_agent=agent,
        machine_reason=machines.click_reason(agent, request.META.get("REMOTE_ADDR"), request.method)))
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


def _authorised(request) -> bool:
    secret = admin_settings.ACE_BOUNCE_WEBHOOK_SECRET
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not secret or not header.lower().startswith("basic "):
        return False
    try:
        given = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


@csrf_exempt
@require_POST
def bounce_mime(request):
    """A bounce (RFC 3464) or complaint (RFC 5965) posted as raw MIME by a mail server's pipe or hook."""
    if not admin_settings.ACE_BOUNCE_WEBHOOK_SECRET:
        return HttpResponseNotFound("Not enabled.", content_type="text/plain")
    if not _authorised(request):
        response = HttpResponse("Authorization required.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="ACE bounces"'
        return response
    found = bounces.parse(request.body)
    return JsonResponse({"found": len(found), "recorded": ingest(found) if found else 0})
