"""A version stamp, shared by every local process through Django's cache, that invalidates ace_admin's caches.

Web and worker processes each keep what they read from the database (templates, message types,
routes, policy rules) in memory. Any write bumps the stamp; a process compares its copy with the
shared stamp once per message sent and reloads when it changed, so an edit is used from the next send.
"""

from __future__ import annotations

import threading
import uuid
import weakref

from django.core.cache import cache

STAMP_KEY = "ace_admin:config-version"

_local_bumps = threading.local()
# The stamp read for a message, so one send reads the shared cache once (loader, policy and router).
_per_message: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_last_written: list[str] = [""]


def bump_templates() -> None:
    """Tell every process that templates, message types, routes or policy rules changed in the database."""
    stamp = uuid.uuid4().hex
    cache.set(STAMP_KEY, stamp, None)
    _last_written[0] = stamp
    with _lock:
        _per_message.clear()


# One stamp covers all of ace_admin's configuration; the other names read better at call sites.
bump = bump_config = bump_templates


def current_stamp(message=None) -> str:
    """The shared stamp; read once per ``message`` when one is given (a send renders several templates)."""
    if message is not None:
        try:
            with _lock:
                stamp = _per_message.get(message)
            if stamp is not None:
                return stamp
        except TypeError:  # not weak-referenceable: read every time
            message = None
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        # Cache empty (first start, cleared, evicted): create a stamp so every process agrees on it.
        stamp = uuid.uuid4().hex
        if not cache.add(STAMP_KEY, stamp, None):
            stamp = cache.get(STAMP_KEY) or stamp
    if message is not None:
        try:
            with _lock:
                _per_message[message] = stamp
        except TypeError:
            pass
    return stamp
