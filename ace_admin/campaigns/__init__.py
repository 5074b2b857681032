"""Campaigns: audiences, schedules (django-celery-beat), rate limits and the Celery tasks that send a run."""
