"""A test-only tag that stands for a template or message whose processing kills the worker process (a
crash in a C extension, an abort, the kernel's OOM killer): ``{% kill_worker_for "p3@example.org" %}``.

For that recipient, in a worker started with ``ACE_TEST_KILL_WORKERS=1`` (tests/integration), the process
sends itself SIGKILL, as the OOM killer would. Elsewhere (the test process itself) it raises
:class:`WorkerDied`, a ``BaseException`` that nothing in ACE catches, for at most ``deaths_left`` renders.
"""

from __future__ import annotations

import os
import signal

from django import template

from ace import presentation

register = template.Library()

#: In-process simulations: how many more renders for the doomed recipient die (None: every one).
deaths_left: int | None = None


class WorkerDied(BaseException):
    """The in-process stand-in for the worker process dying here."""


@register.simple_tag
def kill_worker_for(address):
    global deaths_left
    message = presentation.current_message()
    recipient = getattr(message, "recipient", None)
    if recipient is None or (recipient.email_address or "").lower() != address.lower():
        return ""
    if os.environ.get("ACE_TEST_KILL_WORKERS") == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    if deaths_left is not None:
        if deaths_left <= 0:
            return ""
        deaths_left -= 1
    raise WorkerDied(address)
