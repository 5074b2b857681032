"""Benchmark: a campaign end to end through 2 Celery worker processes, Redis, PostgreSQL and a loopback SMTP server.

Run from the checkout root: ``.venv/bin/python bench/campaign.py`` (``--sizes 2000`` for a short run).

For each size (default 10,000 then 100,000 recipients) it creates an imported audience of that size
and a campaign of the demo newsletter (the real file templates with their shared layout), starts two
``celery -A config worker --pool threads --concurrency 4`` processes, queues the firing, and waits until the run is
done. It prints messages per second from the firing to the last delivery log row, the messages the
SMTP server (aiosmtpd in its own process) accepted, and each worker's peak resident memory (VmHWM of
its processes), the CPU time per message of the workers and of the SMTP server, and the load average
(other work on the machine slows every figure). Needs PostgreSQL and Redis: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/ace_bench_campaign, dropped and re-created) and BENCH_BROKER_URL
(default redis://127.0.0.1:6379/9). Figures are printed, never asserted.

Each size runs twice by default (``--ab both``): a plain campaign, the baseline measured in the same run, then
the same campaign as an A/B split (``no winner`` rule: the audience shared between the newsletter's file
templates, A, and a copy with another subject, B, published as database templates), with the ratio of the two.
The preflight check runs before both, as it does in production.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.send import SmtpServer  # noqa: E402  (after the path set-up above)

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ace_bench_campaign")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
QUEUE = f"ace-bench-{uuid.uuid4().hex[:8]}"


def _recreate_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(var_dir: Path) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": DATABASE_URL,
                       "CELERY_BROKER_URL": BROKER_URL, "ACE_VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING",
                       "ACE_LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _worker_env(smtp_port: int, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": DATABASE_URL,
                "CELERY_BROKER_URL": BROKER_URL, "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port), "ACE_CHANNEL_DEFAULT_EMAIL": "django_email",
                "ACE_CHANNEL_TRANSACTIONAL_EMAIL": "django_email", "ACE_VAR_DIR": str(var_dir),
                "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "ACE_LOG_LEVEL": "WARNING"})
    return env


def _group_pids(leader: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == leader:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return pids


def _peak_rss_mb(pids: list[int]) -> float:
    """The largest VmHWM (peak resident set) among ``pids``, in MB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return peak / 1024


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def _variant(message_type):
    """Variant B of the A/B runs: a copy of the newsletter (its file templates become published database templates)
    with another subject, made as a manager would (``Copy with their templates``)."""
    from django.contrib.auth import get_user_model

    from ace_admin.content.copying import copy_message_type
    from ace_admin.models import Template

    manager, _ = get_user_model().objects.get_or_create(username="bench-manager",
                                                        defaults={"is_staff": True, "is_superuser": True})
    copy = copy_message_type(message_type, manager)
    subject = Template.objects.get(message_type=copy, part="subject.txt", language="")
    subject.content = "{{ platform_name }}: your {{ month }} letter is here"
    subject.save(author=manager)
    return copy


def _prepare(size: int, ab: bool = False):
    from ace_admin.models import Audience, AudienceMember, Campaign, CampaignVariant, MessageType

    message_type, _ = MessageType.objects.get_or_create(app_label="demo", name="newsletter",
                                                        defaults={"category": "marketing"})
    audience = Audience.objects.create(name=f"bench {size} {uuid.uuid4().hex[:6]}")
    chunk = 10000
    for start in range(0, size, chunk):
        AudienceMember.objects.bulk_create(
            AudienceMember(audience=audience, email=f"learner{n}@example.org", lms_user_id=str(n),
                           context={"first_name": f"Learner {n}"}) for n in range(start, min(size, start + chunk)))
    context = {"platform_name": "Open Learning", "month": "November", "catalog_url": "https://example.org/courses",
               "articles": [{"title": f"Article {n}", "summary": "What happened, in two lines of text for a "
                             "summary that is about as long as a real one.", "url": f"https://example.org/a/{n}"}
                            for n in range(3)]}
    campaign = Campaign.objects.create(name=audience.name, message_type=message_type, audience=audience,
                                       context=context, schedule=Campaign.SCHEDULE_NONE,
                                       options={"email_headers": {"X-ACE-Bench": "1"}},
                                       ab_winner_rule=Campaign.AB_RULE_NONE, ab_holdout_percent=0)
    if ab:  # the whole audience split between A (file templates) and B (database templates): nobody waits
        CampaignVariant.objects.create(campaign=campaign, label="B", message_type=_variant(message_type))
    return campaign


def run_size(size: int, smtp: SmtpServer, var_dir: Path, workers: int, pool: str, concurrency: int,
             ab: bool = False) -> dict:
    from celery import Celery

    from ace_admin.models import CampaignRun, DeliveryLog

    campaign = _prepare(size, ab)
    before = smtp.received
    processes = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency", str(concurrency),
         "--queues", QUEUE,
         "--hostname", f"bench{n}-{QUEUE}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=_worker_env(smtp.port, var_dir), stdout=subprocess.DEVNULL,
        stderr=open(var_dir / f"w{n}.log", "w"), start_new_session=True) for n in range(workers)]  # noqa: SIM115
    try:
        time.sleep(4)  # let the workers boot (not part of the measured time)
        boot_cpu = sum(_cpu_seconds(_group_pids(process.pid)) for process in processes)
        smtp_cpu_before = _cpu_seconds([smtp._process.pid])
        client = Celery("bench-client", broker=BROKER_URL)
        started = time.perf_counter()
        client.send_task("ace_admin.tasks.fire_campaign", args=[campaign.pk], queue=QUEUE)
        client.close()
        run = None
        while True:
            time.sleep(0.25)
            run = CampaignRun.objects.filter(campaign=campaign).first()
            if run is not None and run.status not in (CampaignRun.RUNNING, CampaignRun.PAUSED):
                break
        elapsed = time.perf_counter() - started
        groups = [_group_pids(process.pid) for process in processes]
        peaks = [_peak_rss_mb(pids) for pids in groups]
        cpu = sum(_cpu_seconds(pids) for pids in groups) - boot_cpu
        smtp_cpu = _cpu_seconds([smtp._process.pid]) - smtp_cpu_before
        sent = DeliveryLog.objects.filter(campaign_run=run, status="sent").count()
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    return {"size": size, "status": run.status, "seconds": elapsed, "rate": size / elapsed, "sent": sent,
            "smtp": smtp.received - before, "peak_mb": peaks, "worker_cpu_ms": 1000 * cpu / size,
            "smtp_cpu_ms": 1000 * smtp_cpu / size, "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"],
                        help="Celery pool of each worker process (default threads: one process, several batches)")
    parser.add_argument("--concurrency", type=int, default=4, help="batches at once per worker process (default 4)")
    parser.add_argument("--ab", choices=["both", "on", "off"], default="both",
                        help="A/B split between the newsletter and a variant: both (plain first, the baseline of "
                             "the same run, then A/B), on, or off")
    args = parser.parse_args()
    var_dir = ROOT / "var" / "bench-campaign"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        _recreate_database()
        import redis

        redis.Redis.from_url(BROKER_URL).ping()
    except Exception as error:
        print(f"SKIPPED: bench/campaign.py needs PostgreSQL and Redis ({type(error).__name__}: {error}).")
        return
    _setup_django(var_dir)
    print(f"campaign benchmark: {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPU(s), {args.workers} worker processes ({args.pool} pool, {args.concurrency} batches "
          f"at once each), PostgreSQL + Redis, "
          f"aiosmtpd on loopback; demo newsletter (file templates with layout)")
    modes = {"both": [False, True], "on": [True], "off": [False]}[args.ab]
    with SmtpServer() as smtp:
        for size in args.sizes:
            plain = None
            for ab in modes:
                result = run_size(size, smtp, var_dir, args.workers, args.pool, args.concurrency, ab)
                peaks = ", ".join(f"{mb:.0f} MB" for mb in result["peak_mb"])
                ratio = f" ({result['rate'] / plain:.2f} x the plain run)" if ab and plain else ""
                print(f"{result['size']:>8,} recipients, {'A/B split' if ab else 'plain    '}, preflight on: "
                      f"{result['status']}, {result['seconds']:6.1f} s, {result['rate']:6.0f} msg/s end to end{ratio}; "
                      f"sent (log) {result['sent']:,}, SMTP accepted {result['smtp']:,}; peak worker RSS {peaks}; "
                      f"CPU per message: workers {result['worker_cpu_ms']:.2f} ms, SMTP server "
                      f"{result['smtp_cpu_ms']:.2f} ms; load average {result['load']:.1f}")
                if not ab:
                    plain = result["rate"]


if __name__ == "__main__":
    main()
