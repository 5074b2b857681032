"""A decorator for module-level functions that compute their result once and then return it."""

from __future__ import annotations

import functools
import threading

_UNSET = object()


def once(func):
    """Call ``func`` on the first call only; every later call returns that first result.

    Thread-safe: concurrent first calls run ``func`` a single time. ``wrapped.reset()`` forgets the
    result, so the next call computes it again (used when settings change in tests).
    """
    result = _UNSET
    lock = threading.Lock()

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nonlocal result
        if result is _UNSET:
            with lock:
                if result is _UNSET:
                    result = func(*args, **kwargs)
        return result

    def reset():
        nonlocal result
        result = _UNSET

    wrapper.reset = reset
    return wrapper
