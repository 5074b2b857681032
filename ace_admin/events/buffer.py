"""Opens and clicks are kept in memory for up to ``ACE_TRACKING_FLUSH_SECONDS`` and written together, through
``ingest`` (one bulk insert), by a background thread of the web process: the redirect answers without waiting
for the database. ``0`` writes each one at once (tests). Events still buffered when a process is killed are
lost (at most that many seconds' worth); a clean exit writes them."""

from __future__ import annotations

import atexit
import logging
import threading
import time

from django.db import close_old_connections

from ace_admin.events.ingest import Incoming, ingest
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)


class Buffer:
    def __init__(self):
        self._items: list[Incoming] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, item: Incoming) -> None:
        if not admin_settings.ACE_TRACKING_FLUSH_SECONDS:
            ingest([item])
            return
        with self._lock:
            self._items.append(item)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ace-events-buffer", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Write what is buffered now; returns how many events were taken."""
        with self._lock:
            items, self._items = self._items, []
        for start in range(0, len(items), 5000):
            try:
                ingest(items[start:start + 5000])
            except Exception:
                LOG.exception("Could not record %d opens/clicks.", len(items[start:start + 5000]))
        return len(items)

    def _run(self) -> None:
        while True:
            time.sleep(max(0.05, float(admin_settings.ACE_TRACKING_FLUSH_SECONDS or 0.05)))
            self.flush()
            close_old_connections()


buffer = Buffer()
atexit.register(buffer.flush)
