"""Periodic work of the provider registry: fetch by id, call a service."""

from celery import shared_task

from . import services


@shared_task(name="providers.admit_after_notice")
def admit_after_notice():
    return services.applications_admit_due()
