"""What the model modules share: models whose writes bump the configuration stamp, so every process reloads."""

from __future__ import annotations

from django.db import models

from ace_admin import stamp

# Managers whose bulk writes (admin actions, imports) bump the shared stamp, so every process reloads.


class StampingQuerySet(models.QuerySet):
    """A queryset whose bulk writes tell every process that the configuration changed."""

    def update(self, **kwargs):
        count = super().update(**kwargs)
        stamp.bump_after_write()
        return count

    def delete(self):
        result = super().delete()
        stamp.bump_after_write()
        return result

    def bulk_create(self, *args, **kwargs):
        objs = super().bulk_create(*args, **kwargs)
        stamp.bump_after_write()
        return objs

    def bulk_update(self, *args, **kwargs):
        count = super().bulk_update(*args, **kwargs)
        stamp.bump_after_write()
        return count


class StampingModel(models.Model):
    """A model whose saves and deletes bump the shared stamp (after the transaction commits)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        stamp.bump_after_write()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        stamp.bump_after_write()
        return result
