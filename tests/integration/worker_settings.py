"""Settings of the Celery worker processes the integration tests start: the project's, plus the tests app
(its templates) — the database, broker and SMTP server come from the environment."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests"]
