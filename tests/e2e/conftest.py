"""Browser fixtures for tests/e2e: headless Debian Chromium driven by Playwright against pytest-django's live server.

Reusable by every browser test: ``browser`` (one Chromium per session), ``page`` (a fresh context per
test that records console messages and CSP violations), ``staff_user`` and ``admin_page`` (a page
logged in to the admin as ``staff_user``), ``live_url`` (builds absolute URLs on the live server) and
``screenshot_dir`` (var/artifacts/screenshots/, kept by CI). Every test here is marked ``e2e`` and
skips, saying why, when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "screenshots"
STAFF_PASSWORD = "e2e-Staff-password-1"

def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    missing = not os.access(CHROMIUM, os.X_OK)
    skip = pytest.mark.skip(reason=f"browser test skipped: {CHROMIUM} not found (apt-get install -y chromium)")
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if missing:
                item.add_marker(skip)


# One Playwright + Chromium per process, however many modules import the ``browser`` fixture (each import is a
# fixture definition of its own): a second sync Playwright cannot start while one runs.
_shared: dict = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (browser tests in other folders import these fixtures too)."""
    from playwright.sync_api import sync_playwright

    if not _shared["users"]:
        # Playwright's sync API keeps an event loop running in the test thread; the ORM calls the tests make
        # between two browser actions are still plain synchronous code, so Django's async-safety guard is
        # lifted while the browser runs.
        _shared["async_unsafe"] = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        _shared["manager"] = manager = sync_playwright()
        playwright = manager.start()
        _shared["browser"] = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    _shared["users"] += 1
    try:
        yield _shared["browser"]
    finally:
        _shared["users"] -= 1
        if not _shared["users"]:
            _shared.pop("browser").close()
            _shared.pop("manager").__exit__(None, None, None)
            previous = _shared.pop("async_unsafe")
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageLog:
    """What a page reported: console messages, uncaught errors and CSP violations (from the console)."""

    def __init__(self):
        self.console: list[str] = []
        self.errors: list[str] = []

    @property
    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test; ``page.log`` is a :class:`PageLog`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    log = PageLog()
    new_page.on("console", lambda message: log.console.append(f"{message.type}: {message.text}"))
    new_page.on("pageerror", lambda error: log.errors.append(str(error)))
    new_page.log = log
    yield new_page
    context.close()


@pytest.fixture
def live_url(live_server):
    """``live_url("/admin/")`` -> absolute URL on the live server."""
    return lambda path: live_server.url + path


@pytest.fixture
def staff_user(transactional_db, django_user_model):
    """A superuser with an email address, password ``STAFF_PASSWORD``."""
    from tests.factories import SuperuserFactory

    return SuperuserFactory(username="e2e-staff", email="staff@example.org", password=STAFF_PASSWORD, first_name="Erin")


def login(page, live_url, username: str, password: str = STAFF_PASSWORD) -> None:
    """Log in through the admin login form (the real one, CSRF and all)."""
    page.goto(live_url("/admin/login/?next=/admin/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(live_url("/admin/"))


@pytest.fixture
def admin_page(page, live_url, staff_user):
    """``page`` logged in to the admin as ``staff_user``."""
    login(page, live_url, staff_user.username)
    return page


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture
def demo_content(transactional_db):
    """The demo fixture (message types with sample data, French DB templates, routes, a cap, an opt-out)."""
    from tests.conftest import load_demo

    return load_demo()
