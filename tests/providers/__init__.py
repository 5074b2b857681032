"""Local HTTP servers that answer like the email providers' APIs, for channel tests (no patched clients).

Each server listens on 127.0.0.1 on an ephemeral port in a background thread, records every request
it receives, and answers with scripted responses (``server.script(...)``) before falling back to
success. Use as a context manager::

    with SailthruServer(api_key="k", secret="s") as server:
        server.script(server.rate_limited(reset_in=1), server.success())
        ...  # point the channel at server.url
        assert len(server.delivered) == 1
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: Whether the provider would send the email for this answer (success only).
    delivers: bool = False
    #: Seconds to wait before answering (to make a client time out).
    delay: float = 0


@dataclass
class RecordedRequest:
    """What the server received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes
    received_at: float
    #: Decoded body: form fields (Sailthru) or JSON (Braze).
    data: Any = None
    status: int | None = None
    answer: Any = None
    answer_headers: dict[str, str] = field(default_factory=dict)
    delivered: bool = False
    #: Anything the server checked (e.g. whether the signature was valid).
    checks: dict[str, Any] = field(default_factory=dict)


class FakeProviderServer:
    """Base class: a threaded HTTP server with a response script and a request log.

    Subclasses implement :meth:`handle`, returning a :class:`Reply` for a recorded request, and the
    reply builders (``success``, ``rate_limited``, ``server_error``, ``fatal``).
    """

    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeProviderServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                server._serve(self)

            do_GET = do_POST

            def log_message(self, *args):  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval so stopping the server at the end of each test is quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # Scripting -------------------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order; afterwards, succeed again."""
        with self._lock:
            self._script.extend(replies)

    def next_scripted(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    @property
    def delivered(self) -> list[RecordedRequest]:
        """The requests the provider would have turned into an email."""
        return [request for request in self.requests if request.delivered]

    # Serving ---------------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        request = RecordedRequest(method=handler.command, path=handler.path, headers=dict(handler.headers.items()),
                                  raw_body=raw, received_at=time.time())
        try:
            reply = self.handle(request)
        except Exception as error:  # a bug in the fake must show up as a failing test, not a hang
            reply = Reply(599, {"fake_server_error": repr(error)})
        request.status, request.answer, request.delivered = reply.status, reply.body, reply.delivers
        request.answer_headers = dict(reply.headers)
        with self._lock:
            self.requests.append(request)
        if reply.delay:
            time.sleep(reply.delay)
        # bytes are sent as they are (a proxy's HTML error page); anything else as JSON.
        is_raw = isinstance(reply.body, bytes)
        payload = reply.body if is_raw else json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "text/html" if is_raw else "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        try:
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            pass

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError


def reset_at(seconds_from_now: float) -> int:
    """A rate-limit reset time in Unix seconds, as providers send it (rounded up to the next second)."""
    return int(time.time() + seconds_from_now) + 1
