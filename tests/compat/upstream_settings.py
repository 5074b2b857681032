"""Django settings for running edx-ace's released test suites against this project's ``edx_ace``.

They mirror the settings edx-ace's own repository runs its suite with (its ``test_settings.py``, which the
sdist does not ship): the same enabled channels, policies and Sailthru debug settings, plus what 1.15's
push-notification tests need (``push_notifications`` and its settings). ``run_upstream.py`` sets
``ACE_COMPAT_TEMPLATES`` to the copied suite's ``test_templates`` folder.
"""

import os

SECRET_KEY = "insecure-secret-key-for-the-edx-ace-compat-suite"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "edx_ace",
    "push_notifications",
]

ROOT_URLCONF = "tests.compat.upstream_urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.environ.get("ACE_COMPAT_TEMPLATES", "")],
    },
]

ACE_ENABLED_POLICIES = []
ACE_CHANNEL_DEFAULT_EMAIL = "sailthru_email"
ACE_CHANNEL_TRANSACTIONAL_EMAIL = "file_email"
ACE_ENABLED_CHANNELS = ["sailthru_email", "file_email"]

ACE_CHANNEL_SAILTHRU_DEBUG = True
ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "Automated Communication Engine Email"
ACE_CHANNEL_SAILTHRU_API_KEY = None
ACE_CHANNEL_SAILTHRU_API_SECRET = None

# 1.15: push notifications through django-push-notifications (Firebase); nothing is sent by the suite.
PUSH_NOTIFICATIONS_SETTINGS = {"CONFIG": "push_notifications.conf.AppConfig", "APPLICATIONS": {}}
FCM_APP_NAME = "test-app"

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
