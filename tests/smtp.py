"""A real SMTP server on loopback for tests: records what it receives and answers as it is scripted to.

``SmtpServer`` runs aiosmtpd in a background thread on 127.0.0.1 and an ephemeral port. Each accepted
message is kept as a ``Received`` (envelope sender, envelope recipients, the parsed ``email.message``).
Replies can be scripted: refuse given addresses at RCPT or DATA with a 4xx/5xx reply (for every message,
or for the next N times), or refuse the next N recipients at RCPT / the next N messages at DATA,
whatever their addresses.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes
    #: The client's (host, port): messages sent over one connection share it.
    peer: tuple | None = None

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None

    @property
    def text(self) -> str | None:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else None


@dataclass
class _Rule:
    reply: str
    remaining: int | None  # None: for ever


@dataclass
class _Script:
    rcpt: dict[str, _Rule] = field(default_factory=dict)
    data_for: dict[str, _Rule] = field(default_factory=dict)
    data_next: list[str] = field(default_factory=list)
    rcpt_next: list[str] = field(default_factory=list)


def _take(rules: dict[str, _Rule], address: str) -> str | None:
    rule = rules.get(address.lower())
    if rule is None:
        return None
    if rule.remaining is not None:
        rule.remaining -= 1
        if rule.remaining <= 0:
            del rules[address.lower()]
    return rule.reply


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        with self.server._lock:
            self.server.attempts.append(("RCPT", address))
            reply = _take(self.server._script.rcpt, address)
            if reply is None and self.server._script.rcpt_next:
                reply = self.server._script.rcpt_next.pop(0)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        with self.server._lock:
            self.server.attempts.append(("DATA", ",".join(envelope.rcpt_tos)))
            if self.server._script.data_next:
                return self.server._script.data_next.pop(0)
            for address in envelope.rcpt_tos:
                reply = _take(self.server._script.data_for, address)
                if reply is not None:
                    return reply
            raw = envelope.original_content or envelope.content
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw, tuple(session.peer or ())))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 in a thread. Use as a context manager or start()/stop()."""

    host = "127.0.0.1"

    def __init__(self):
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        #: Every RCPT and DATA command seen, accepted or refused: ("RCPT", address) / ("DATA", rcpts).
        self.attempts: list[tuple[str, str]] = []
        self._script = _Script()
        self._controller: Controller | None = None
        self.port: int | None = None

    def start(self) -> SmtpServer:
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # Scripting -------------------------------------------------------------------------------------

    def refuse_rcpt(self, address: str, reply: str = "550 5.1.1 No such user", times: int | None = None):
        """Answer ``reply`` to RCPT TO:<address> (the next ``times`` times, or always)."""
        with self._lock:
            self._script.rcpt[address.lower()] = _Rule(reply, times)

    def refuse_data_for(self, address: str, reply: str = "554 5.7.1 Rejected", times: int | None = None):
        """Answer ``reply`` to DATA for a message addressed to ``address`` (next ``times`` times, or always)."""
        with self._lock:
            self._script.data_for[address.lower()] = _Rule(reply, times)

    def refuse_next_data(self, reply: str, count: int = 1):
        """Answer ``reply`` to DATA for the next ``count`` messages, whoever they are for."""
        with self._lock:
            self._script.data_next.extend([reply] * count)

    def refuse_next_rcpt(self, reply: str, count: int = 1):
        """Answer ``reply`` to the next ``count`` RCPT commands, whatever the address."""
        with self._lock:
            self._script.rcpt_next.extend([reply] * count)

    def reset(self) -> None:
        """Forget every message, attempt and scripted reply."""
        with self._lock:
            self.messages.clear()
            self.attempts.clear()
            self._script = _Script()

    def received_by(self, address: str) -> list[Received]:
        with self._lock:
            return [item for item in self.messages if address.lower() in (r.lower() for r in item.rcpt_tos)]
