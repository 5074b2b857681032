"""The runnable ACE Django project (settings, urls, wsgi/asgi, Celery app)."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
