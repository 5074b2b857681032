"""The negative control of the hostile corpus: the corpus is able to fail.

Every payload of tests/ace_admin/hostile_templates.py is compiled with Django's *plain* engine (no sandbox:
the same directories, libraries and builtins as the project's, filesystem loaders only) and rendered with the
same context and planted secrets as tests/ace_admin/test_sandbox.py. Each render runs in a forked child
process (limited to 1 GiB of memory and 20 s), because unsandboxed these payloads really delete files and
really abort the process. The checks are the ones test_sandbox.py applies to the sandbox — secrets in the
output, the planted file read/changed/deleted, the process dead — plus Python objects shown by their repr;
a large share of the corpus must trip them, and every kind of harm must occur at least once.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import time
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.template import Context, Engine, engines

from ace.channel import ChannelType, channels
from tests.ace_admin.conftest import make_message
from tests.ace_admin.hostile_templates import HOSTILE
from tests.ace_admin.test_sandbox import FILE_SECRET, hostile_context, planted  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

#: Reprs of Python internals a data-only template must never show.
OBJECT_REPR = re.compile(r"<(module|function|bound method|built-in|class|generator|frame|"
                         r"[\w.]+ object at 0x)|PosixPath\(|environ\(\{|<Settings|LazySettings|<Logger|"
                         r"_GeneratorContextManager|<ace\.|<django\.")


def plain_engine() -> Engine:
    project = engines["django"].engine
    return Engine(dirs=list(project.dirs), app_dirs=True, libraries=project.libraries,
                  builtins=[path for path in project.builtins if isinstance(path, str)] or None,
                  autoescape=project.autoescape)


def _render_in_child(engine, payload: str, context: dict) -> dict:
    """Fork; the child renders ``payload`` unsandboxed and reports its output. Returns what happened."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's cleanup
        try:
            os.close(read_end)
            for connection in connections.all():
                connection.connection = None  # never speak on the parent's database socket
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
            try:
                output = engine.from_string(payload).render(Context(context, autoescape=False))
                report = {"output": output[:200_000], "size": len(output)}
            except BaseException as error:  # the error text counts as output too
                report = {"output": f"{type(error).__name__}: {error}"[:200_000], "error": type(error).__name__}
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline, timed_out = [], time.monotonic() + 20, False
    while True:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            timed_out = True
            break
        ready, _, _ = select.select([read_end], [], [], 0.5)
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    report = json.loads(b"".join(chunks) or b"{}")
    report["killed_by"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) and not timed_out else None
    report["stuck"] = timed_out
    return report


def test_the_corpus_detects_harm_when_the_sandbox_is_off(planted, tmp_path):  # noqa: F811
    secrets, secret_file = planted
    engine = plain_engine()
    channel = channels().get_default_channel(ChannelType.EMAIL)
    harms: Counter = Counter()
    harmful = 0
    for payload in HOSTILE:
        if not secret_file.exists():
            secret_file.write_text(FILE_SECRET)
        before = (secret_file.read_text(), secret_file.stat().st_mtime_ns)
        context = hostile_context(secret_file)
        message = make_message(context=context)
        report = _render_in_child(engine, payload, {**context, "channel": channel, "message": message})
        output = report.get("output", "")
        found = set()
        if any(secret in output for secret in secrets if secret != FILE_SECRET):
            found.add("secret shown")
        if FILE_SECRET in output:
            found.add("file read")
        if not secret_file.exists() or (secret_file.read_text(), secret_file.stat().st_mtime_ns) != before:
            found.add("file changed or deleted")
        if report["killed_by"] is not None:
            found.add("process killed")
        if OBJECT_REPR.search(output):
            found.add("python object shown")
        if report.get("error") in ("MemoryError", "RecursionError") or report.get("size", 0) > 2 * 1024 * 1024 \
                or report["stuck"]:
            found.add("resources exhausted")  # what the sandbox's render limits stop
        if not found:
            print("no harm:", payload[:100])
        harms.update(found)
        harmful += bool(found)
    assert django_settings.SECRET_KEY in secrets  # the secrets were planted in this very process
    share = harmful / len(HOSTILE)
    print(f"\nUnsandboxed, {harmful} of {len(HOSTILE)} payloads ({share:.0%}) do harm: {dict(harms)}")
    assert share >= 0.3, (harmful, len(HOSTILE), dict(harms))
    assert {"secret shown", "file read", "file changed or deleted", "process killed",
            "python object shown"} <= set(harms), dict(harms)
