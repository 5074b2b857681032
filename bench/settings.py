"""Minimal Django settings for the benchmarks: the ACE engine, cached template loaders, no database work."""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
USE_I18N = True
USE_TZ = True
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
# ace_admin (and what its models refer to) for the "DB templates" row; bench/db_templates.py creates its tables.
# (django_celery_beat: ace_admin's campaign models refer to its schedules.)
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sites", "django_celery_beat",
                  "ace", "ace_admin"]
SITE_ID = 1
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BENCH_DIR / "templates"],
        "OPTIONS": {
            # The same cached loaders config/settings.py uses: templates are parsed once per process.
            "loaders": [
                ("django.template.loaders.cached.Loader", [
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ]),
            ],
        },
    },
]
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = 25
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = "Open Campus <no-reply@example.org>"
ACE_ENABLED_CHANNELS = ["django_email"]
ACE_ENABLED_POLICIES = []
ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
LOGGING_CONFIG = None
