"""Settings for the test suite: the project's settings (so DATABASE_URL / CELERY_BROKER_URL from the
environment apply), plus the ``tests`` app whose templates/ the test message types render."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests", "push_notifications"]

# The push_notification channel's tests (tests/ace/channel/test_push_notification.py) give the FCM application
# its Firebase app, whose HTTP transport is a fake of the FCM v1 API.
PUSH_NOTIFICATIONS_SETTINGS = {"CONFIG": "push_notifications.conf.AppConfig",
                               "APPLICATIONS": {"ace-test": {"PLATFORM": "FCM", "FIREBASE_APP": None}}}
FCM_APP_NAME = "ace-test"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "ACE Tests <no-reply@example.org>"
ACE_ENABLED_CHANNELS = ["django_email", "file_push"]
ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY = 0.2
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
# The ace_admin version stamp lives in Django's cache: per test process here (xdist workers stay apart).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ace-tests"}}

# Filesystem templates the ace_admin tests override from the database (tests/ace_admin/templates/).
import copy  # noqa: E402

from config.settings import BASE_DIR, TEMPLATES  # noqa: E402

TEMPLATES = copy.deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "ace_admin" / "templates"]

# A cache shared with another process, for the test that edits a template while a second process sends.
if os.environ.get("ACE_TEST_SHARED_CACHE_DIR"):  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": os.environ["ACE_TEST_SHARED_CACHE_DIR"]}}  # noqa: F405

# Integration tests on the default set-up (tests/integration): a SQLite test database in a file that the
# worker processes open too, instead of one in memory.
if os.environ.get("ACE_TEST_SQLITE_PATH") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES = copy.deepcopy(DATABASES)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.environ["ACE_TEST_SQLITE_PATH"]}  # noqa: F405
ACE_TRACKING_FLUSH_SECONDS = 0  # opens and clicks written in the request (tests/events drive the buffer)
