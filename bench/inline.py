"""Benchmark: the cost of email-client-ready HTML (ace_admin.content.email_ready) per message, and send throughput
with and without it.

Run from the checkout root: ``.venv/bin/python bench/inline.py`` (``--quick`` for a short smoke run).

Part 1 renders the weekly digest of bench/send.py (a layout, a ``<style>`` block that is itself templated, a loop of
five courses) for a few hundred recipients, then times each step on those rendered messages: rendering itself
(for scale), inlining the CSS with css-inline uncached and from the cache (an identical message seen again),
deriving the text part, and the template look-ups that decide whether the text part follows the HTML.
Part 2 runs ``ace.send`` with ``ACE_RENDERED_MESSAGE_PROCESSORS`` empty (the engine alone, today's send) and with
``finish_email``, interleaved, against the dummy mail backend and a real SMTP server on loopback; with the
templates on disk and in ace_admin's database (where the HTML comes from the admin, so the text part is derived
too). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.send import (  # noqa: E402
    APP_LABEL,
    DUMMY_BACKEND,
    MESSAGE_NAME,
    SMTP_BACKEND,
    SmtpServer,
    ace_sender,
    make_recipients,
    measure,
    use_backend,
)

PROCESSOR = "ace_admin.content.email_ready.finish_email"


def with_processors(make_sender, processors: list[str]):
    """A sender that runs with ``ACE_RENDERED_MESSAGE_PROCESSORS`` set to ``processors``."""
    from django.conf import settings

    from ace.settings import reload_all

    inner = make_sender()

    def run(recipients):
        if settings.ACE_RENDERED_MESSAGE_PROCESSORS != processors:
            settings.ACE_RENDERED_MESSAGE_PROCESSORS = processors
            reload_all()
        return inner(recipients)

    return run


def per_message_costs(count: int, repeats: int) -> list[tuple[str, float]]:
    """Microseconds per message of each step, medians of ``repeats`` passes over ``count`` rendered messages."""
    from django.conf import settings

    from ace import presentation
    from ace.channel import ChannelType, channels
    from ace.channel.mixins import EmailChannelMixin
    from ace.message import Message
    from ace.recipient import Recipient
    from ace.renderers import html_to_text
    from ace.settings import reload_all
    from ace_admin.content import email_ready

    settings.ACE_RENDERED_MESSAGE_PROCESSORS = []
    reload_all()
    channel = channels().get_channel_by_name(ChannelType.EMAIL, "django_email")
    messages = [Message(app_label=APP_LABEL, name=MESSAGE_NAME, recipient=Recipient(index, address), language="en",
                        context=context) for index, address, context in make_recipients(count)]
    rendered = [presentation.render(channel, message) for message in messages]
    documents = [EmailChannelMixin.html_document(item) for item in rendered]
    uncached = email_ready.inline_document.__wrapped__

    def timed(step) -> float:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            samples.append((time.perf_counter() - start) / count * 1e6)
        return statistics.median(samples)

    def decide():
        for message in messages:
            token = presentation._rendering.set((message, channel))
            try:
                email_ready.text_follows_html(channel, message)
            finally:
                presentation._rendering.reset(token)

    email_ready.inline_document(documents[0])
    rows = [
        ("render (the engine, for scale)", timed(lambda: [presentation.render(channel, m) for m in messages])),
        ("inline CSS (css-inline), uncached", timed(lambda: [uncached(d) for d in documents])),
        ("inline CSS, cached (same message again)", timed(lambda: [email_ready.inline_document(documents[0])
                                                                  for _ in documents])),
        ("derive the text part (html_to_text)", timed(lambda: [html_to_text(item.body_html) for item in rendered])),
        ("decide: does the text follow the HTML", timed(decide)),
    ]
    sizes = [len(d.encode()) for d in documents]
    inlined = [len(uncached(d).encode()) for d in documents]
    rows.append((f"HTML size {statistics.median(sizes) / 1024:.1f} KB -> inlined "
                 f"{statistics.median(inlined) / 1024:.1f} KB", float("nan")))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and rounds (smoke run)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    from importlib.metadata import version

    import django

    django.setup()
    rounds = 3 if args.quick else 11
    dummy_count, smtp_count = (150, 100) if args.quick else (300, 200)
    print(f"Python {platform.python_version()}, Django {django.get_version()}, css-inline "
          f"{version('css-inline')}, {os.cpu_count()} cores ({platform.machine()}), load average "
          f"{os.getloadavg()[0]:.1f}\n")

    print("Per message (microseconds, median of passes over "
          f"{dummy_count} rendered weekly digests):")
    for label, value in per_message_costs(dummy_count, 5 if args.quick else 15):
        print(f"  {label:48} {'' if value != value else f'{value:8.0f}'}")  # noqa: PLR0124 — nan: no figure

    rows = []
    from bench.db_templates import db_template_sender

    use_backend(DUMMY_BACKEND)
    db_sender = db_template_sender(ace_sender)  # sets up the tables once; the two DB rows share it
    senders = {
        "ace.send, files, no processor (today)": with_processors(ace_sender, []),
        "ace.send, files, finish_email": with_processors(ace_sender, [PROCESSOR]),
        "ace.send, DB templates, no processor": with_processors(lambda: db_sender, []),
        "ace.send, DB templates, finish_email": with_processors(lambda: db_sender, [PROCESSOR]),
    }
    rates, ratios = measure(senders, make_recipients(dummy_count), rounds)
    for index, name in enumerate(senders):
        rows.append((name, rates[name], ratios[name] if index else None, f"dummy backend, {dummy_count} msgs/run"))

    with SmtpServer() as server:
        use_backend(SMTP_BACKEND, port=server.port)
        senders = {
            "ace.send in batch(), files, no processor (today)": with_processors(lambda: ace_sender(batch=True), []),
            "ace.send in batch(), files, finish_email": with_processors(lambda: ace_sender(batch=True), [PROCESSOR]),
        }
        before = server.received
        rates, ratios = measure(senders, make_recipients(smtp_count), rounds)
        received = server.received - before
        expected = len(senders) * (rounds * smtp_count + max(20, smtp_count // 5))
        if received != expected:
            raise SystemExit(f"The SMTP server received {received} of the {expected} messages sent.")
        for index, name in enumerate(senders):
            rows.append((name, rates[name], ratios[name] if index else None, f"SMTP loopback, {smtp_count} msgs/run"))

    width = max(len(row[0]) for row in rows)
    print(f"\nThroughput (medians of {rounds} interleaved rounds; ratio = median per-round ratio to the first row "
          "of its group):")
    print(f"  {'':{width}}  {'msg/s':>8}  {'ratio':>6}  notes")
    for label, rate, ratio, note in rows:
        print(f"  {label:{width}}  {rate:8.0f}  {'' if ratio is None else f'{ratio:6.2f}':>6}  {note}")
    print(f"\nThe SMTP server received all {received} messages sent to it.")


if __name__ == "__main__":
    main()
