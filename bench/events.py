"""Benchmark: delivery-event ingest on the bulk path (floor 2,000 events/s) and the click redirect's latency
against a live server (goal: median under 10 ms).

Run from the checkout root: ``.venv/bin/python bench/events.py`` (``--events 20000 --clicks 500``).

1. Ingest: ``ace_admin.events.ingest.ingest`` over batches of ``--batch`` events (opens, clicks on 5 links,
   delivered; 20% repeats of the same message, so "first open" matters) for 2,000 sent messages: match to rows,
   de-duplicate, flag scanners, insert, add to the daily counters. Baseline in the same run: the ORM's
   ``bulk_create`` of the same events alone (no matching, no counters), the obvious way to insert them.
2. Redirect: gunicorn (1 process, 4 threads) serves the project on a loopback port; one keep-alive client
   fetches a real click link of a tracked message ``--clicks`` times. Baseline: the same server answering a
   forged link (404, the signature check only). The clicks are then written by the server's buffer thread:
   the run waits until the database holds them all.

SQLite file by default; BENCH_DATABASE_URL=postgres://... for PostgreSQL (that database is dropped and re-created).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

INGEST_FLOOR = 2000.0
REDIRECT_GOAL_MS = 10.0


def _environment(workdir: str) -> dict:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"
    return {"DJANGO_SETTINGS_MODULE": "config.settings", "ACE_VAR_DIR": workdir, "DATABASE_URL": url,
            "ALLOWED_HOSTS": "127.0.0.1,testserver", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "CELERY_BROKER_URL": "memory://", "SECRET_KEY": "bench-events-not-secret", "LOG_LEVEL": "ERROR",
            "PYTHONPATH": str(ROOT)}


def _recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup(env: dict) -> None:
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    if env["DATABASE_URL"].startswith("postgres"):
        _recreate_postgres(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rows(count: int):
    from ace_admin.models import DeliveryLog, MessageType

    message_type = MessageType.objects.create(app_label="bench", name="news", category="newsletter",
                                              engagement_tracking="on")
    rows = [DeliveryLog(message_uuid=uuid.uuid4(), app_label="bench", message_name="news", message_type=message_type,
                        recipient_id=str(n), recipient_address=f"r{n}@example.org", channel_type="email",
                        channel_name="django_email", status="sent", attempts=1, language=("en", "fr")[n % 2])
            for n in range(count)]
    DeliveryLog.objects.bulk_create(rows, batch_size=1000)
    return list(DeliveryLog.objects.values_list("pk", "message_uuid"))


def _items(rows, count: int, tag: str):
    from ace_admin.events.ingest import Incoming
    from ace_admin.models import EventType

    kinds = [EventType.DELIVERED, EventType.OPENED, EventType.OPENED, EventType.CLICKED]
    items = []
    for n in range(count):
        pk, message_uuid = rows[(n * 7) % len(rows)] if n % 5 else rows[0]
        kind = kinds[n % len(kinds)]
        items.append(Incoming(kind, "bench", provider_event_id=f"{tag}-{n}", message_uuid=message_uuid,
                              url=f"https://shop.example.org/item/{n % 5}" if kind == EventType.CLICKED else "",
                              user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/120"))
    return items


def bench_ingest(rows, total: int, batch: int) -> tuple[float, float]:
    from django.db import transaction
    from django.utils import timezone

    from ace_admin.events.ingest import _event, ingest
    from ace_admin.models import DeliveryEvent

    baseline = _items(rows, total, "base")
    for item in baseline:
        item.delivery_id, item.occurred_at = rows[0][0], timezone.now()
    start = time.perf_counter()
    for first in range(0, total, batch):
        with transaction.atomic():
            DeliveryEvent.objects.bulk_create([_event(item) for item in baseline[first:first + batch]])
    bare = total / (time.perf_counter() - start)
    DeliveryEvent.objects.all().delete()

    items = _items(rows, total, "ingest")
    start = time.perf_counter()
    for first in range(0, total, batch):
        ingest(items[first:first + batch])
    full = total / (time.perf_counter() - start)
    return full, bare


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _time_gets(port: int, path: str, count: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def bench_redirect(env: dict, rows, clicks: int, workdir: str) -> dict:
    from ace_admin.events import tracking
    from ace_admin.events.ingest import links_for
    from ace_admin.models import DeliveryEvent, EventType

    link_id = links_for(["https://shop.example.org/spring"])["https://shop.example.org/spring"]
    good = f"/ace/t/c/{tracking.click_token(rows[1][1], link_id)}"
    forged = "/ace/t/c/" + tracking.signing.b64(rows[1][1].bytes + link_id.to_bytes(4, "big") + b"\0" * 10)
    before = DeliveryEvent.objects.filter(event_type=EventType.CLICKED, provider="ace").count()
    port = _free_port()
    log = open(Path(workdir) / "gunicorn.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--threads", "4", "--keep-alive", "30"],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, time.time() + 60)
        _time_gets(port, good, 20)  # warm: imports, first queries, caches
        _time_gets(port, forged, 20)
        redirect = _time_gets(port, good, clicks)
        refused = _time_gets(port, forged, clicks)
        deadline = time.time() + 30
        while time.time() < deadline:
            written = DeliveryEvent.objects.filter(event_type=EventType.CLICKED, provider="ace").count() - before
            if written >= clicks + 20:
                break
            time.sleep(0.2)
    except Exception:
        log.flush()
        print((Path(workdir) / "gunicorn.log").read_text()[-3000:])
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return {"redirect": redirect, "refused": refused, "written": written, "expected": clicks + 20}


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(v * 1000 for v in values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events to ingest (default 20,000)")
    parser.add_argument("--batch", type=int, default=5_000, help="events per ingest call (default 5,000)")
    parser.add_argument("--clicks", type=int, default=500, help="timed click redirects (default 500)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ace-bench-events-") as workdir:
        env = _environment(workdir)
        _setup(env)
        from django.db import connection

        rows = _rows(2000)
        print(f"Events benchmark: Python {platform.python_version()}, {platform.machine()}, "
              f"{connection.vendor}, load average {os.getloadavg()[0]:.2f}")
        full, bare = bench_ingest(rows, args.events, args.batch)
        print(f"ingest, bulk path ({args.events:,} events, batches of {args.batch:,}): {full:,.0f} events/s "
              f"(floor {INGEST_FLOOR:,.0f}); baseline ORM bulk_create alone: {bare:,.0f} events/s")
        result = bench_redirect(env, rows, args.clicks, workdir)
        median, p95 = _ms(result["redirect"])
        base_median, base_p95 = _ms(result["refused"])
        print(f"click redirect, live gunicorn ({args.clicks} requests, keep-alive): median {median:.2f} ms, "
              f"p95 {p95:.2f} ms (goal median < {REDIRECT_GOAL_MS:.0f} ms); baseline forged link (404): "
              f"median {base_median:.2f} ms, p95 {base_p95:.2f} ms")
        print(f"clicks written by the server's buffer: {result['written']} of {result['expected']}")


if __name__ == "__main__":
    main()
