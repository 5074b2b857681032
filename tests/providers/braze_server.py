"""A local server that answers ``POST /messages/send`` like Braze's REST API (Bearer auth, JSON, 201/4xx/429/5xx)."""

from __future__ import annotations

import json
import time
import uuid

from tests.providers import FakeProviderServer, RecordedRequest, Reply, reset_at

RATE_LIMIT_PER_MINUTE = 250


class BrazeServer(FakeProviderServer):
    """Answers like Braze: 201 ``{"dispatch_id", "message": "success"}``, or ``{"message": ...}`` errors."""

    def __init__(self, api_key: str, app_id: str):
        super().__init__()
        self.api_key = api_key
        self.app_id = app_id

    # Reply builders --------------------------------------------------------------------------
    def _limit_headers(self, remaining: int = RATE_LIMIT_PER_MINUTE - 1, reset: int | None = None) -> dict:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset if reset is not None else int(time.time()) + 60),
        }

    def success(self) -> Reply:
        return Reply(201, None, self._limit_headers(), delivers=True)

    def rate_limited(self, reset_in: float = 0) -> Reply:
        """HTTP 429 with ``X-RateLimit-Reset`` about ``reset_in`` seconds from now."""
        headers = self._limit_headers(remaining=0, reset=reset_at(reset_in))
        return Reply(429, {"message": "Rate limit exceeded"}, headers)

    def server_error(self, status: int = 503) -> Reply:
        return Reply(status, {"message": "Service unavailable"}, self._limit_headers())

    def fatal(self, status: int = 400, message: str = "Invalid campaign_id") -> Reply:
        return Reply(status, {"message": message}, self._limit_headers())

    # Serving ---------------------------------------------------------------------------------
    def problems(self, request: RecordedRequest) -> list[str]:
        """What is wrong with a /messages/send body, as Braze would refuse it."""
        body = request.data
        if not isinstance(body, dict):
            return ["body must be a JSON object"]
        problems = []
        ids = body.get("external_user_ids")
        if not (isinstance(ids, list) and ids and all(isinstance(i, str) and i for i in ids)):
            problems.append("external_user_ids must be a non-empty list of strings")
        if body.get("recipient_subscription_state", "subscribed") not in ("subscribed", "opted_in", "all"):
            problems.append("invalid recipient_subscription_state")
        email = (body.get("messages") or {}).get("email")
        if not isinstance(email, dict):
            return [*problems, "messages.email is required"]
        if email.get("app_id") != self.app_id:
            problems.append("messages.email.app_id is not a valid app id")
        for key in ("subject", "from", "body"):
            if not isinstance(email.get(key), str) or not email[key]:
                problems.append(f"messages.email.{key} is required")
        return problems

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != "/messages/send":
            return Reply(404, {"message": f"No route {request.method} {request.path}"})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"message": "Invalid API key"})
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return Reply(400, {"message": "Content-Type must be application/json"})
        try:
            request.data = json.loads(request.raw_body)
        except ValueError:
            return Reply(400, {"message": "Invalid JSON"})
        problems = self.problems(request)
        if problems:
            return Reply(400, {"message": "; ".join(problems)}, self._limit_headers())
        reply = self.next_scripted() or self.success()
        if reply.delivers and reply.body is None:
            reply.body = {"dispatch_id": uuid.uuid4().hex, "message": "success"}
        return reply
