"""A version stamp, shared by every local process through Django's cache, that invalidates ace_admin's caches.

Web and worker processes each keep what they read from the database (templates, message types,
routes, policy rules) in memory. Any write bumps the stamp; a process compares its copy with the
shared stamp once per message sent and reloads when it changed, so an edit is used from the next send.
"""

from __future__ import annotations

import os
import threading
import uuid
import weakref

from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.db import transaction

STAMP_KEY = "ace_admin:config-version"


class PerMessage:
    """A map keyed on message objects by identity (messages compare by value and are unhashable); an
    entry lives as long as its message."""

    def __init__(self):
        self._data: dict[int, tuple] = {}
        self._lock = threading.Lock()

    def get(self, message, default=None):
        entry = self._data.get(id(message))
        if entry is None or entry[0]() is not message:
            return default
        return entry[1]

    def __setitem__(self, message, value) -> None:
        key = id(message)

        def forget(_ref, key=key):
            with self._lock:
                entry = self._data.get(key)
                if entry is not None and entry[0] is _ref:
                    del self._data[key]

        with self._lock:
            self._data[key] = (weakref.ref(message, forget), value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# The stamp read for a message, so one send reads the shared cache once (loader, policy and router).
_per_message = PerMessage()


def bump_templates() -> None:
    """Tell every process that templates, message types, routes or policy rules changed in the database."""
    stamp = uuid.uuid4().hex
    cache.set(STAMP_KEY, stamp, None)
    _per_message.clear()


def bump_after_write() -> None:
    """Bump now (this connection already sees the write) and again after commit (other processes see it
    only then: one that reloaded in between would otherwise keep the old rows under the new stamp)."""
    bump_templates()
    transaction.on_commit(bump_templates)



# For a file-based cache: the stamp file's identity (inode, mtime, size) when last read, and the stamp.
# A write replaces the file, so an unchanged identity means an unchanged stamp: a stat() instead of
# open + read + unpickle on every send.
_file_seen: list = [None, None]


_stamp_path: list = [None, None]  # (cache backend object, path of its stamp file)


def _stamp_file() -> str | None:
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        return None
    if _stamp_path[0] is not backend:
        _stamp_path[:] = [backend, backend._key_to_file(STAMP_KEY)]
    return _stamp_path[1]


def _read_shared_stamp() -> str:
    path = _stamp_file()
    identity = None
    if path is not None:
        try:
            info = os.stat(path)
            identity = (path, info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            identity = None
        if identity is not None and _file_seen[0] == identity:
            return _file_seen[1]
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        # Cache empty (first start, cleared, evicted): create a stamp so every process agrees on it.
        stamp = uuid.uuid4().hex
        if not cache.add(STAMP_KEY, stamp, None):
            stamp = cache.get(STAMP_KEY) or stamp
        identity = None  # the file was just written: take its identity on the next read
    if identity is not None:
        _file_seen[:] = [identity, stamp]
    return stamp


def current_stamp(message=None) -> str:
    """The shared stamp; read once per ``message`` when one is given (a send renders several templates)."""
    if message is not None:
        stamp = _per_message.get(message)
        if stamp is not None:
            return stamp
    stamp = _read_shared_stamp()
    if message is not None:
        try:
            _per_message[message] = stamp
        except TypeError:  # not weak-referenceable: read every time
            pass
    return stamp


def share_stamp(messages) -> None:
    """Read the shared stamp once for many messages (a campaign batch, every few seconds): each then uses it as
    if it had read it itself, saving one cache read per message."""
    stamp = _read_shared_stamp()
    for message in messages:
        _per_message[message] = stamp


class StampedValue:
    """A value computed from the database once per process and recomputed after the stamp changes."""

    def __init__(self, load):
        self._load = load
        self._stamp = None
        self._value = None
        self._lock = threading.Lock()

    def get(self, message=None):
        current = current_stamp(message)
        if current != self._stamp:
            with self._lock:
                if current != self._stamp:
                    value = self._load()
                    self._value, self._stamp = value, current
        return self._value

    def reset(self) -> None:
        with self._lock:
            self._stamp = None
            self._value = None
