"""Benchmark: messages per second through ``ace.send`` next to plain Django doing the same work.

Run from the checkout root: ``.venv/bin/python bench/send.py`` (``--quick`` for a short smoke run).

The *floor* renders the same five templates of one message type with Django's cached loaders and
sends an ``EmailMultiAlternatives`` on one reused connection; the ``ace.send`` rows build a
``Message`` per recipient and send it over the ``django_email`` channel. Both run first against the
dummy mail backend (pure overhead), then against a real SMTP server (aiosmtpd in a separate process
on loopback) whose received-message count is checked. Each row is a median of several timed
repetitions after a warm-up run. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP_LABEL = "bench"
MESSAGE_NAME = "weekly_digest"
TEMPLATE_FILES = ("from_name.txt", "subject.txt", "head.html", "body.html", "body.txt")
DUMMY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


# --- the SMTP server (a separate process, so it does not share the sender's GIL) -----------------

def _smtp_server(port, counter, ready, stop):
    """Run aiosmtpd on 127.0.0.1:``port``, counting every message it accepts, until ``stop`` is set."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            if b"X-ACE-Bench: 1" in envelope.original_content:
                with counter.get_lock():
                    counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpServer:
    """aiosmtpd in a child process; ``received`` is how many benchmark messages it accepted."""

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._counter = ctx.Value("l", 0)
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self._process = ctx.Process(target=_smtp_server, args=(self.port, self._counter, self._ready, self._stop),
                                    daemon=True)

    @property
    def received(self) -> int:
        return self._counter.value

    def __enter__(self):
        self._process.start()
        if not self._ready.wait(20):
            raise SystemExit("The aiosmtpd server did not start within 20 seconds.")
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()


# --- the work being measured ------------------------------------------------------------------

def recipient_context(index: int) -> dict:
    """What one learner's digest is rendered from: a few scalars and a list of five courses."""
    week = datetime(2026, 11, 23, tzinfo=UTC)
    return {
        "first_name": ("ada", "grace", "", "linus", "barbara")[index % 5],
        "platform_name": "Open Campus",
        "platform_url": "https://campus.example.org",
        "logo_url": "https://campus.example.org/static/logo.png",
        "unsubscribe_url": f"https://campus.example.org/unsubscribe/{index:08d}/",
        "postal_address": "1 Example Street\n75001 Paris",
        "brand_color": "#0a66c2",
        "campaign": "weekly digest 2026-48",
        "week_start": week,
        "courses": [
            {
                "key": f"course-v1:Org{c}+CS{100 + c}+2026_T{c % 3 + 1}",
                "title": f"introduction to topic number {c} and friends",
                "org": f"org{c}",
                "due": week + timedelta(days=c + 2),
                "progress": (index * 7 + c * 13) % 100 + 0.4,
                "next_unit": "Unit 4: reading the assignment brief, writing the first draft, peer review, "
                             "and what the graders look for in a good answer",
            }
            for c in range(5)
        ],
    }


def make_recipients(count: int) -> list[tuple[int, str, dict]]:
    return [(i, f"learner{i}@example.org", recipient_context(i)) for i in range(count)]


def floor_sender(connection_factory):
    """Plain Django: the five templates, one ``EmailMultiAlternatives`` per recipient, one reused
    connection for the whole run."""
    from django.core.mail import EmailMultiAlternatives
    from django.template import loader
    from django.utils import translation

    def run(recipients):
        connection = connection_factory()
        connection.open()
        try:
            for index, address, context in recipients:
                with translation.override("en"):  # ace.send does the same for a message with a language
                    parts = [loader.get_template(f"{APP_LABEL}/edx_ace/{MESSAGE_NAME}/email/{name}").render(context)
                             for name in TEMPLATE_FILES]
                from_name, subject, head, body_html, body_text = parts
                email = EmailMultiAlternatives(
                    subject=" ".join(subject.split()),
                    body=body_text,
                    from_email=f'"{from_name.strip()}" <no-reply@example.org>',
                    to=[address],
                    headers={"X-ACE-Bench": "1", "X-Recipient-Index": str(index)},
                    connection=connection,
                )
                email.attach_alternative(f"<!DOCTYPE html>\n<html>\n<head>\n{head}\n</head>\n<body>\n{body_html}\n"
                                         f"</body>\n</html>\n", "text/html")
                email.send()
        finally:
            connection.close()
        return len(recipients)

    return run


def ace_sender(batch: bool = False):
    """``ace.send`` of one ``Message`` per recipient; with ``batch`` inside the django_email channel's
    ``batch()`` block (one SMTP connection for the run)."""
    import contextlib

    from ace import ace
    from ace.channel import ChannelType, channels
    from ace.message import Message
    from ace.recipient import Recipient

    def run(recipients):
        channel = channels().get_channel_by_name(ChannelType.EMAIL, "django_email")
        sent = 0
        with channel.batch() if batch else contextlib.nullcontext():
            for index, address, context in recipients:
                message = Message(
                    app_label=APP_LABEL,
                    name=MESSAGE_NAME,
                    recipient=Recipient(lms_user_id=index, email_address=address),
                    language="en",
                    context=context,
                    options={"email_headers": {"X-ACE-Bench": "1"}},
                )
                sent += ace.send(message).sent
        if sent != len(recipients):
            raise SystemExit(f"ace.send delivered {sent} of {len(recipients)} messages: the benchmark is void.")
        return sent

    return run


# --- measuring and printing ---------------------------------------------------------------------

def measure(senders: dict, recipients, rounds: int) -> tuple[dict, dict]:
    """Run every sender once untimed (warm-up), then ``rounds`` timed rounds in which each sender
    runs once, one after the other. Returns the median messages/second of each sender, and the
    median per round of its rate divided by the first sender's rate in that round: interleaving
    and per-round ratios keep a busy machine's drift out of the comparison."""
    rates = {name: [] for name in senders}
    ratios = {name: [] for name in senders}
    for run in senders.values():
        run(recipients[: max(20, len(recipients) // 5)])
    for _ in range(rounds):
        this_round = {}
        for name, run in senders.items():
            start = time.perf_counter()
            count = run(recipients)
            this_round[name] = count / (time.perf_counter() - start)
            rates[name].append(this_round[name])
        base = next(iter(this_round.values()))
        for name, rate in this_round.items():
            ratios[name].append(rate / base)
    return ({name: statistics.median(values) for name, values in rates.items()},
            {name: statistics.median(values) for name, values in ratios.items()})


def use_backend(backend: str, port: int | None = None):
    """Point Django's mail settings (and ACE's cached settings) at ``backend``."""
    from django.conf import settings

    from ace.settings import reload_all

    settings.EMAIL_BACKEND = backend
    if port is not None:
        settings.EMAIL_PORT = port
    reload_all()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and rounds (smoke run)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django
    from django.core.mail import get_connection

    django.setup()

    rounds = 3 if args.quick else 15
    dummy_count, smtp_count = (150, 100) if args.quick else (300, 200)
    dummy_recipients, smtp_recipients = make_recipients(dummy_count), make_recipients(smtp_count)

    print(f"Python {platform.python_version()}, Django {django.get_version()}, "
          f"{os.cpu_count()} cores ({platform.machine()}), load average {os.getloadavg()[0]:.1f}, "
          f"settings {os.environ['DJANGO_SETTINGS_MODULE']}")
    print(f"Message type {APP_LABEL}.{MESSAGE_NAME}: {len(TEMPLATE_FILES)} templates, body.html extends a base "
          f"layout and loops over 5 courses.\nMedians of {rounds} interleaved rounds after a warm-up; ratio = "
          f"median of per-round ratios to the floor above it.\n")
    rows: list[tuple[str, float, float | None, str]] = []

    use_backend(DUMMY_BACKEND)
    senders = {
        "floor: Django render + EmailMultiAlternatives": floor_sender(get_connection),
        "ace.send, django_email": ace_sender(),
    }
    # The same message type with its templates stored in ace_admin's database (bench/db_templates.py).
    from bench.db_templates import db_template_sender

    senders["ace.send, django_email, DB templates"] = db_template_sender(ace_sender)
    rates, ratios = measure(senders, dummy_recipients, rounds)
    for index, name in enumerate(senders):
        rows.append((name, rates[name], ratios[name] if index else None, f"dummy backend, {dummy_count} msgs/run"))

    with SmtpServer() as server:
        use_backend(SMTP_BACKEND, port=server.port)
        senders = {
            "floor: same, one reused SMTP connection": floor_sender(get_connection),
            "ace.send, django_email, connection per message": ace_sender(),
            "ace.send, django_email, inside channel.batch()": ace_sender(batch=True),
        }
        before = server.received
        rates, ratios = measure(senders, smtp_recipients, rounds)
        received = server.received - before
        expected = len(senders) * (rounds * smtp_count + max(20, smtp_count // 5))  # timed runs plus warm-ups
        if received != expected:
            raise SystemExit(f"The SMTP server received {received} of the {expected} messages sent.")
        for index, name in enumerate(senders):
            rows.append((name, rates[name], ratios[name] if index else None,
                         f"SMTP loopback, {smtp_count} msgs/run"))

    width = max(len(row[0]) for row in rows)
    print(f"{'':{width}}  {'msg/s':>8}  {'ratio':>6}  notes")
    for label, rate, ratio, note in rows:
        print(f"{label:{width}}  {rate:8.0f}  {'' if ratio is None else f'{ratio:6.2f}':>6}  {note}")
    print(f"\nThe SMTP server received all {received} messages sent to it.")


if __name__ == "__main__":
    main()
