"""Real Celery worker processes (and beat) against the test database, a real broker and a loopback SMTP server.

They need a database and a broker that another process can reach: DATABASE_URL (PostgreSQL) and
CELERY_BROKER_URL (Redis) in the environment, as in .ci/run; or, for the default set-up, SQLite in a file
and the filesystem broker: ACE_TEST_SQLITE_PATH=/tmp/ace-it.sqlite3 (and neither variable). Otherwise
they skip and say why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.smtp import SmtpServer, _Handler

ROOT = Path(__file__).resolve().parents[2]


def _on_sqlite_files() -> bool:
    """The default set-up, opted into: a SQLite test database in a file (ACE_TEST_SQLITE_PATH, see
    tests/settings.py) and the filesystem broker, both shared with the worker processes."""
    return bool(os.environ.get("ACE_TEST_SQLITE_PATH")) and not os.environ.get("DATABASE_URL", "").startswith(
        ("postgres://", "postgresql://")) and not os.environ.get("CELERY_BROKER_URL")


def _reason_to_skip() -> str | None:
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if _on_sqlite_files():
        return None
    if not database.startswith(("postgres://", "postgresql://")):
        return ("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... (.ci/run sets both), or "
                "ACE_TEST_SQLITE_PATH=/tmp/ace-it.sqlite3 for SQLite in a file + the filesystem broker: the "
                "worker processes must share the database and the broker")
    if not broker.startswith(("redis://", "rediss://")):
        return "needs CELERY_BROKER_URL=redis://... (a broker another process can reach); .ci/run sets it"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _reason_to_skip()
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


class ScriptedHandler(_Handler):
    """tests.smtp's handler with a hook called before each DATA: it may answer instead (and kill a worker)."""

    async def handle_DATA(self, smtp, session, envelope):
        hook = self.server.before_data
        if hook is not None:
            reply = hook(envelope)
            if reply:
                return reply
        return await super().handle_DATA(smtp, session, envelope)


class Mailbox(SmtpServer):
    """tests.smtp.SmtpServer with a ``before_data(envelope) -> reply or None`` hook."""

    before_data = None

    def start(self):
        from aiosmtpd.controller import Controller

        from tests.smtp import _free_port

        self.port = _free_port()
        self._controller = Controller(ScriptedHandler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def recipients(self) -> list[str]:
        with self._lock:
            return [rcpt for item in self.messages for rcpt in item.rcpt_tos]


@pytest.fixture(scope="module")
def mailbox():
    with Mailbox() as server:
        yield server


@pytest.fixture
def fresh_mailbox(mailbox):
    mailbox.reset()
    mailbox.before_data = None
    yield mailbox
    mailbox.before_data = None
    mailbox.reset()


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Workers:
    """Starts worker processes (each in its own process group, so SIGKILL takes its pool children too)."""

    def __init__(self, tmp_path: Path, mailbox: Mailbox, queue: str, **env):
        self.tmp_path, self.mailbox, self.queue, self.extra_env = tmp_path, mailbox, queue, env
        self.processes: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.mailbox.host, "EMAIL_PORT": str(self.mailbox.port), "EMAIL_TIMEOUT": "10",
            "ACE_CHANNEL_DEFAULT_EMAIL": "django_email", "ACE_CHANNEL_TRANSACTIONAL_EMAIL": "django_email",
            "ACE_VAR_DIR": str(self.tmp_path / "var"), "PYTHONPATH": str(ROOT),
            "ACE_CAMPAIGN_LEASE_SECONDS": "3", "ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS": "0.2",
            "ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS": "1", "ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY": "0.2",
            "LOG_LEVEL": "WARNING",
        })
        if _on_sqlite_files():
            env["CELERY_BROKER_URL"] = "filesystem://"  # under ACE_VAR_DIR/celery/, which send() writes to
        env.update(self.extra_env)
        return env

    def start(self, beat: bool = False, name: str | None = None) -> subprocess.Popen:
        name = name or f"w{len(self.processes)}"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--pool",
                   "prefork", "--hostname", f"{name}-{self.queue}@%h", "--queues", self.queue,
                   "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
        if beat:
            command += ["-B", "--schedule", str(self.tmp_path / f"beat-{name}")]
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log_path = self.tmp_path / f"{name}.log"
        self.processes.append(process)
        return process

    def kill(self, process) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    def stop_all(self) -> None:
        # No graceful shutdown to wait for: the queue is this test's own and is thrown away.
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_path.read_text(errors='replace')[-4000:]}"
                         for p in self.processes)

    def send(self, task: str, *args) -> None:
        """Queue a task on the real broker (the test process itself runs Celery eagerly)."""
        if _on_sqlite_files():
            folder = str(self.tmp_path / "var" / "celery" / "queue")
            os.makedirs(folder, exist_ok=True)
            app = Celery("ace-test-client", broker="filesystem://")
            app.conf.broker_transport_options = {"data_folder_in": folder, "data_folder_out": folder,
                                                 "control_folder": str(self.tmp_path / "var" / "celery" / "control")}
        else:
            app = Celery("ace-test-client", broker=os.environ["CELERY_BROKER_URL"])
        try:
            app.send_task(task, args=list(args), queue=self.queue)
        finally:
            app.close()


@pytest.fixture
def workers(tmp_path, fresh_mailbox, transactional_db):
    pool = Workers(tmp_path, fresh_mailbox, queue=f"ace-test-{uuid.uuid4().hex[:12]}")
    yield pool
    pool.stop_all()


def wait_for(condition, timeout: float, what: str, workers: Workers | None = None):
    """Poll ``condition`` until it returns a true value; fail with the workers' logs after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}." + (f"\n{workers.logs()}" if workers else ""))
