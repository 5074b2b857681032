"""Benchmark: what the template sandbox costs at render time (nothing else: no loading, no sending).

Run from the checkout root: ``.venv/bin/python bench/sandbox_render.py`` (``--profile`` adds a cProfile of the
sandboxed renders). The five templates of the bench message type (and the base they extend) are compiled once
as plain Django templates and once as sandboxed ``GuardedTemplate``s, then rendered for the same recipients;
the two are interleaved round by round (same machine state), each figure is a median. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEMPLATES = ROOT / "bench" / "templates"
PARTS = [f"bench/edx_ace/weekly_digest/email/{name}" for name in
         ("from_name.txt", "subject.txt", "head.html", "body.html", "body.txt")]


def engines():
    """Two engines over the same sources: one compiles them as plain Django templates, the other sandboxed."""
    from django.template.base import Template

    from ace_admin.content.safety import GuardedTemplate

    return engine_for(Template), engine_for(GuardedTemplate)


def engine_for(kind):
    """An engine whose templates are compiled by ``kind`` once each (as the cached loaders do)."""
    from django.template import Engine, TemplateDoesNotExist
    from django.template import engines as configured
    from django.template.base import Origin

    sources = {str(path.relative_to(TEMPLATES)): path.read_text() for path in TEMPLATES.rglob("*")
               if path.is_file()}

    def engine(kind):
        made = Engine(libraries=configured["django"].engine.libraries, loaders=[])
        compiled = {}

        class Loader:
            def get_template(self, name, skip=None):
                if name not in sources:
                    raise TemplateDoesNotExist(name)
                if name not in compiled:
                    compiled[name] = kind(sources[name], Origin(name, name), name, made)
                return compiled[name]

            def reset(self):
                pass

        made.template_loaders = [Loader()]
        return made

    return engine(kind)


def render_all(engine, contexts) -> int:
    from django.template import Context

    size = 0
    for context in contexts:
        for name in PARTS:
            size += len(engine.get_template(name).render(Context(context)))
    return size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from bench.send import recipient_context

    plain, guarded = engines()
    contexts = [recipient_context(index) for index in range(args.recipients)]
    assert render_all(plain, contexts[:5]) == render_all(guarded, contexts[:5])  # and warms both caches
    times = {"plain Django": [], "sandboxed": []}
    for _ in range(args.rounds):
        for label, engine in (("plain Django", plain), ("sandboxed", guarded)):
            start = time.perf_counter()
            render_all(engine, contexts)
            times[label].append(time.perf_counter() - start)
    base = statistics.median(times["plain Django"])
    print(f"{args.recipients} messages x {len(PARTS)} parts, median of {args.rounds} interleaved rounds, "
          f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label:<13} {median * 1000:8.1f} ms  {args.recipients / median:8.0f} messages/s  "
              f"x{median / base:.2f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(render_all, guarded, contexts)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
