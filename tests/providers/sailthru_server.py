"""A local server that answers ``POST /send`` like Sailthru's REST API (form fields, signature, error codes)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from urllib.parse import parse_qsl

from tests.providers import FakeProviderServer, RecordedRequest, Reply, reset_at

RATE_LIMIT_PER_MINUTE = 40


def signature(fields: dict[str, str], secret: str) -> str:
    """Sailthru's request signature: MD5 of the secret followed by every other field value, sorted."""
    values = sorted(value for name, value in fields.items() if name != "sig")
    return hashlib.md5((secret + "".join(values)).encode("utf-8")).hexdigest()


class SailthruServer(FakeProviderServer):
    """Answers like Sailthru: JSON success with ``send_id``, or ``{"error": code, "errormsg": ...}``."""

    def __init__(self, api_key: str, secret: str):
        super().__init__()
        self.api_key = api_key
        self.secret = secret

    # Reply builders --------------------------------------------------------------------------
    def _limit_headers(self, remaining: int = RATE_LIMIT_PER_MINUTE - 1, reset: int | None = None) -> dict:
        return {
            "X-Rate-Limit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": str(reset if reset is not None else int(time.time()) + 60),
        }

    def success(self) -> Reply:
        return Reply(200, None, self._limit_headers(), delivers=True)

    def rate_limited(self, reset_in: float = 0) -> Reply:
        """Error 43 with ``X-Rate-Limit-Reset`` about ``reset_in`` seconds from now."""
        return Reply(429, {"error": 43, "errormsg": "Too many POST requests this minute to /send API"},
                     self._limit_headers(remaining=0, reset=reset_at(reset_in)))

    def server_error(self) -> Reply:
        return Reply(500, {"error": 9, "errormsg": "Internal error"}, self._limit_headers())

    def fatal(self, code: int = 14, message: str = "Unknown template: missing") -> Reply:
        return Reply(400, {"error": code, "errormsg": message}, self._limit_headers())

    # Serving ---------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        fields = dict(parse_qsl(request.raw_body.decode("utf-8"), keep_blank_values=True))
        request.data = dict(fields)  # the signature is checked over the raw fields below
        try:
            request.data["json"] = json.loads(fields.get("json", ""))
        except ValueError:
            return Reply(400, {"error": 1, "errormsg": "Invalid JSON in the json field"}, self._limit_headers())
        request.checks["sig_valid"] = fields.get("sig") == signature(fields, self.secret)
        if request.method != "POST" or request.path != "/send":
            return Reply(404, {"error": 99, "errormsg": f"Unknown action {request.method} {request.path}"})
        if fields.get("api_key") != self.api_key:
            return Reply(401, {"error": 2, "errormsg": "Invalid API key"}, self._limit_headers())
        if not request.checks["sig_valid"]:
            return Reply(401, {"error": 3, "errormsg": "Invalid signature"}, self._limit_headers())
        payload = request.data["json"]
        if not payload.get("template") or not payload.get("email"):
            return Reply(400, {"error": 99, "errormsg": "template and email are required"}, self._limit_headers())
        reply = self.next_scripted() or self.success()
        if reply.delivers and reply.body is None:
            reply.body = {"send_id": uuid.uuid4().hex[:24], "email": payload["email"],
                          "template": payload["template"], "status": "unknown"}
        return reply
