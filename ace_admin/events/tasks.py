"""Celery tasks of the events wing (thin wrappers; schedule ``purge_raw_payloads`` daily with beat)."""

from celery import shared_task

from ace_admin.events import purge


@shared_task(name="ace_admin.events.purge_raw_payloads")
def purge_raw_payloads() -> int:
    return purge.purge_raw_payloads()
