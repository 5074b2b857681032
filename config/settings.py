"""Django settings for the ACE project, read from the environment.

Every variable has a default that runs on a laptop with nothing installed (SQLite, a broker that
needs no server); set DATABASE_URL and CELERY_BROKER_URL to scale out (see README).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from pathlib import Path

from django.utils.functional import lazy

from config.env import env_bool, env_int, env_list, env_proxy_ssl_header, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ACE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


@functools.cache
def _generated_secret_key() -> str:
    """A key generated once and kept under var/ (never in git): made on first use, not when settings load.
    Read once per process: a lazy setting is evaluated on every use (signing reads it for each link)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# SECRET_KEY from the environment, else the generated one (lazy: importing settings writes no file).
SECRET_KEY = env_str("SECRET_KEY") or lazy(_generated_secret_key, str)()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS in production (`manage.py check --deploy` lists what is missing). Off by default: `make demo` serves
# plain http on 127.0.0.1. Behind a proxy that terminates TLS, SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto=https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "import_export",
    "ckeditor",
    "ace",
    "ace_admin",
    "demo",  # demo message types (fixtures/demo.json, templates/demo/)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (admin, CKEditor) under gunicorn, where Django itself does not.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # No inline script, eval or foreign origin on the admin pages that edit or preview templates.
    "ace_admin.preview.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # Templates edited in the admin first (cached per process, invalidated by a stamp shared
            # through CACHES), then the files, parsed once per process. The DB loader sits outside
            # the cached loader so that a DB edit wins at once although the cached loader memoises.
            "loaders": [
                "ace_admin.content.loader.Loader",
                ("django.template.loaders.cached.Loader", [
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ]),
            ],
        },
    }
]

DATABASES = {
    "default": parse_database_url(env_str("DATABASE_URL", "sqlite:///var/ace.sqlite3"), BASE_DIR),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español"), ("de", "Deutsch")]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
SITE_ID = 1

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing directory
# Uploaded image assets (ace_admin): Django's default storage, files under var/media/ served by ace_admin with
# long cache headers. STORAGES["default"] may name any django-storages backend instead (its URLs are used).
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Email: the SMTP backend by default; EMAIL_BACKEND picks another (console, locmem, file...).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ACE <no-reply@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ACE channels (entry-point names). See README "Configuration".
ACE_ENABLED_CHANNELS = env_list("ACE_ENABLED_CHANNELS", ["django_email", "file_email"])
# Templates edited in the admin are untrusted: one that fails to render is that message's TEMPLATE_ERROR
# (delivery log) rather than an exception in the calling view (edx-ace raises it: the engine's default).
ACE_RAISE_TEMPLATE_ERRORS = env_bool("ACE_RAISE_TEMPLATE_ERRORS", False)
# No caller waits on a failing provider: a recoverable failure during ace.send is retried by a Celery worker
# (ace_admin.tasks.send_message, backoff with jitter) instead of ace.send sleeping. Empty: edx-ace's behaviour.
ACE_RETRY_HANDLER = env_str("ACE_RETRY_HANDLER", "ace_admin.campaigns.tasks.schedule_send_retry")
# Policies (entry-point names): the admin's rules, opt-outs and suppressions. Unset would enable none (edx-ace).
ACE_ENABLED_POLICIES = env_list("ACE_ENABLED_POLICIES", ["ace_admin"])
ACE_CHANNEL_DEFAULT_EMAIL = env_str("ACE_CHANNEL_DEFAULT_EMAIL", "django_email")
ACE_CHANNEL_TRANSACTIONAL_EMAIL = env_str("ACE_CHANNEL_TRANSACTIONAL_EMAIL", "django_email")
ACE_CHANNEL_FILE_PATH = env_str("ACE_CHANNEL_FILE_PATH", str(VAR_DIR / "outbox"))
ACE_CHANNEL_SAILTHRU_API_KEY = env_str("ACE_CHANNEL_SAILTHRU_API_KEY")
ACE_CHANNEL_SAILTHRU_API_SECRET = env_str("ACE_CHANNEL_SAILTHRU_API_SECRET")
ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = env_str("ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME")
ACE_CHANNEL_BRAZE_API_KEY = env_str("ACE_CHANNEL_BRAZE_API_KEY")
ACE_CHANNEL_BRAZE_APP_ID = env_str("ACE_CHANNEL_BRAZE_APP_ID")
ACE_CHANNEL_BRAZE_REST_ENDPOINT = env_str("ACE_CHANNEL_BRAZE_REST_ENDPOINT")
# Channel routes edited in the admin choose a channel before the ACE_CHANNEL_* settings above.
ACE_CHANNEL_ROUTERS = ["ace_admin.rules.routing.DatabaseRouter"]
# Unsubscribe and preference links (List-Unsubscribe headers, {{ unsubscribe_url }}, {{ preferences_url }})
# added to every message before rendering. ACE_PUBLIC_BASE_URL is where recipients reach this site.
ACE_MESSAGE_PREPARERS = [
    "ace_admin.rules.defaults.apply_message_type_defaults",
    "ace_admin.privacy.links.prepare_message",
    # ACE's Message-ID on every email, and the VERP envelope sender when ACE_BOUNCE_DOMAIN is set.
    "ace_admin.events.verp.prepare_message",
]
# Send-time finishing of every rendered message (previews included): CSS inlined for email clients, the text
# part kept in step with HTML edited in the admin.
ACE_RENDERED_MESSAGE_PROCESSORS = ["ace_admin.content.email_ready.finish_email"]
# Just before delivery, real sends only: ACE's own open/click tracking for the message types that want it.
ACE_OUTGOING_PROCESSORS = ["ace_admin.events.tracking.process_email"]
# django-anymail (EMAIL_BACKEND = "anymail.backends.<esp>.EmailBackend"): the ESP's credentials and the basic-auth
# secret its webhooks must present ("user:password"); see the README's table per ESP.
ANYMAIL = json.loads(env_str("ANYMAIL", "") or "{}")  # JSON, e.g. {"MAILGUN_API_KEY": "..."}
if os.environ.get("ANYMAIL_WEBHOOK_SECRET"):
    ANYMAIL["WEBHOOK_SECRET"] = os.environ["ANYMAIL_WEBHOOK_SECRET"]
ACE_BOUNCE_DOMAIN = env_str("ACE_BOUNCE_DOMAIN", "")
ACE_BOUNCE_WEBHOOK_SECRET = env_str("ACE_BOUNCE_WEBHOOK_SECRET", "")
ACE_PUBLIC_BASE_URL = env_str("ACE_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# "Send a test" in the preview: test messages one staff user may send per hour (counted in CACHES).
ACE_TEST_SEND_LIMIT_PER_HOUR = env_int("ACE_TEST_SEND_LIMIT_PER_HOUR", 20)
ACE_UNSUBSCRIBE_MAILTO = env_str("ACE_UNSUBSCRIBE_MAILTO", "")  # e.g. unsubscribe@example.org; empty: https only

# Celery: a broker that needs no server by default (files under var/), Redis or RabbitMQ to scale.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # kombu keeps its exchange tables in ./control unless told otherwise: keep them under var/ too.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None

# Django's cache carries the stamp that tells every web and worker process an admin edit happened, so
# it must be shared by them: Redis when there is one, else files under var/ (shared by local processes).
REDIS_URL = env_str("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "ace"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Scheduled template publishes (ace_admin.content.publishing): checked every minute; DatabaseScheduler copies this
# entry into its table at start-up.
CELERY_BEAT_SCHEDULE = {
    "ace-publish-due-templates": {"task": "ace_admin.tasks.publish_due_templates", "schedule": 60.0},
}
# The queue every ACE task goes to (a test run or a second ACE on the same Redis picks its own).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# Campaigns (ace_admin.campaigns; README "Campaigns"): recipients per batch, seconds a silent worker keeps a batch,
# retry backoff (doubling from BACKOFF up to BACKOFF_MAX, with jitter), attempts, and per-channel rates as
# JSON, e.g. ACE_CAMPAIGN_RATE_LIMITS='{"django_email": 50}' (messages per second, shared by all workers).
ACE_CAMPAIGN_BATCH_SIZE = env_int("ACE_CAMPAIGN_BATCH_SIZE", 500)
ACE_CAMPAIGN_LEASE_SECONDS = env_int("ACE_CAMPAIGN_LEASE_SECONDS", 60)
ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = float(env_str("ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS", "10"))
ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS = float(env_str("ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS", "3600"))
ACE_CAMPAIGN_MAX_ATTEMPTS = env_int("ACE_CAMPAIGN_MAX_ATTEMPTS", 10)
ACE_CAMPAIGN_DEFAULT_EXPIRATION_HOURS = env_int("ACE_CAMPAIGN_DEFAULT_EXPIRATION_HOURS", 24)
ACE_CAMPAIGN_RATE_LIMITS = json.loads(env_str("ACE_CAMPAIGN_RATE_LIMITS", "") or "{}")
# Workers that may die processing one message before it is logged failed instead of delivered again (0: no cap).
ACE_ADMIN_MAX_TASK_DELIVERIES = env_int("ACE_ADMIN_MAX_TASK_DELIVERIES", 3)
ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY = float(env_str("ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY", "30"))

CKEDITOR_CONFIGS = {
    "default": {"toolbar": "full", "height": 400, "width": "100%"},
    # The visual editor for template fragments (ace_admin.content.widgets.TemplateEditor): merge tags are
    # chips and {% if %}/{% for %} sections are boxes (the `acetags` plugin in template_editor.js); no
    # Source button: template syntax is edited in the source editor, which is lossless.
    "ace_visual": {
        "toolbar": [
            ["Undo", "Redo"],
            ["Bold", "Italic", "Underline", "-", "RemoveFormat"],
            ["NumberedList", "BulletedList", "-", "JustifyLeft", "JustifyCenter"],
            ["Link", "Unlink", "Image", "Table", "HorizontalRule"],
            ["Format"],
            ["Maximize", "ShowBlocks"],
        ],
        "height": 450,
        "width": "100%",
        "allowedContent": True,
        "fullPage": False,
        "entities": False,
        "fillEmptyBlocks": False,
        "autoParagraph": False,
        "extraPlugins": "widget,acetags",
        "removePlugins": "sourcearea,elementspath,magicline",
    },
}
IMPORT_EXPORT_USE_TRANSACTIONS = True  # an import with any bad row saves nothing
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Importing writes content, so it needs the change permission; exporting needs view.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"ace": {"level": os.environ.get("ACE_LOG_LEVEL", "INFO"), "propagate": True}},
}

# django-ckeditor warns that CKEditor 4.22 is out of support. ACE's admin serves the editor under a
# Content-Security-Policy that blocks inline script (see ace_admin), so the warning is acknowledged.
SILENCED_SYSTEM_CHECKS = ["ckeditor.W001"]
