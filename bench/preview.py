"""Benchmark: server-side time to preview each demo message type (goal: under 100 ms).

Run from the checkout root: ``.venv/bin/python bench/preview.py`` (``--repeat N``, default 30).

Uses the project's real settings on a throw-away SQLite database holding the demo fixture: the
database template loader first, the cached file loaders after it. For each demo message type and
language (``en``: files on disk; ``fr``: templates from the database) it times
``ace_admin.preview.render.render_preview`` (render, template origins, warnings) and the whole preview page
through Django's test client (form, render, page template, frame stored in the cache). The first
request of a type is shown apart ("cold": templates parsed); the others give the median and p95.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_MS = 100.0


def _setup(workdir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["ACE_VAR_DIR"] = workdir
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("loaddata", str(ROOT / "fixtures" / "demo.json"), verbosity=0)


def _ms(seconds: list[float]) -> tuple[float, float]:
    values = sorted(s * 1000 for s in seconds)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return statistics.median(values), p95


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions per row (default 30)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ace-bench-preview-") as workdir:
        _setup(workdir)
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from ace.channel import ChannelType
        from ace_admin.models import MessageType
        from ace_admin.preview.render import PreviewRequest, render_preview

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password")
        client = Client()
        client.force_login(user)

        print(f"Preview benchmark: Python {platform.python_version()}, {platform.machine()}, "
              f"{args.repeat} repetitions per row, goal < {GOAL_MS:.0f} ms server-side")
        print(f"{'message type':<28}{'lang':<6}{'what':<16}{'cold ms':>9}{'median ms':>11}{'p95 ms':>9}  sources")
        worst = 0.0
        for message_type in MessageType.objects.filter(app_label="demo").order_by("name"):
            for language in ("en", "fr"):
                request = PreviewRequest(message_type=message_type, context=dict(message_type.sample_context),
                                         language=language, channel_type=ChannelType.EMAIL)
                start = time.perf_counter()
                preview = render_preview(request, user.email)
                cold = time.perf_counter() - start
                if preview.error is not None:
                    print(f"{str(message_type):<28}{language:<6}ERROR {preview.error}")
                    continue
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    render_preview(request, user.email)
                    times.append(time.perf_counter() - start)
                median, p95 = _ms(times)
                kinds = sorted({source.kind for source in preview.sources})
                print(f"{str(message_type):<28}{language:<6}{'render_preview':<16}{cold * 1000:>9.1f}"
                      f"{median:>11.2f}{p95:>9.2f}  {'+'.join(kinds)}")

                url = reverse("admin:ace_admin_messagetype_preview", args=[message_type.pk])
                data = {"language": language, "channel_type": "email", "channel_name": "", "site": "",
                        "context": json.dumps(message_type.sample_context), "overlay": ""}
                start = time.perf_counter()
                response = client.post(url, data)
                cold = time.perf_counter() - start
                assert response.status_code == 200, response.status_code
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    client.post(url, data)
                    times.append(time.perf_counter() - start)
                median, p95 = _ms(times)
                worst = max(worst, median)
                print(f"{'':<28}{'':<6}{'preview page':<16}{cold * 1000:>9.1f}{median:>11.2f}{p95:>9.2f}")
        verdict = "within" if worst < GOAL_MS else "OVER"
        print(f"Slowest preview page median: {worst:.2f} ms ({verdict} the {GOAL_MS:.0f} ms goal).")


if __name__ == "__main__":
    main()
