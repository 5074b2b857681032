"""Archiving instead of deleting: message types, templates and campaigns that have history are kept.

History (template versions, delivery log rows, campaign runs) refers to them with ``on_delete=PROTECT``,
so deleting one that has history is refused (the admin's delete page lists what protects it). The
"Archive" action hides them instead: an archived message type is never sent (``ace.send`` records
"message type archived" in the delivery log, also for transactional messages), an archived template is
unpublished (the file on disk or the next published version is used), an archived campaign is
unscheduled and cannot be run. "Restore from the archive" undoes it (a template stays unpublished until
someone publishes it again).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError


class ArchivedFilter(admin.SimpleListFilter):
    """Lists hide archived rows unless asked ("Archived" or "All")."""

    title = "archive"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Current"), ("yes", "Archived"), ("all", "All")]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": (self.value() or "no") == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "all":
            return queryset
        return queryset.filter(archived=(value == "yes"))


class ArchiveAdminMixin:
    """"Archive" and "Restore from the archive" actions, the archive filter, and deletion refused politely."""

    archive_updates: dict = {"archived": True}

    def get_list_filter(self, request):
        return [ArchivedFilter, *super().get_list_filter(request)]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for name in ("archive", "unarchive"):
                function = getattr(type(self), name)
                actions[name] = (function, name, function.short_description)
        return actions

    def archive_queryset(self, queryset) -> int:
        return queryset.update(**self.archive_updates)

    def after_archive(self, request, objects: list, archived: bool) -> None:
        """Called after the archive actions with the items changed (the publishing audit trail records them)."""

    def archive(self, request, queryset):
        objects = list(queryset)
        count = self.archive_queryset(queryset)
        self.after_archive(request, objects, True)
        self.message_user(request, f"{count} {self.model._meta.verbose_name_plural} archived: kept with their "
                                   "history, no longer used.", messages.SUCCESS)

    archive.short_description = "Archive the selected items (kept with their history, no longer used)"

    def unarchive(self, request, queryset):
        objects = list(queryset)
        count = queryset.update(archived=False)
        self.after_archive(request, objects, False)
        self.message_user(request, f"{count} {self.model._meta.verbose_name_plural} restored from the archive.",
                          messages.SUCCESS)

    unarchive.short_description = "Restore the selected items from the archive"

    def delete_model(self, request, obj):
        try:
            super().delete_model(request, obj)
        except ProtectedError as error:  # history appeared between the confirmation page and the POST
            raise_protected(error)

    def delete_queryset(self, request, queryset):
        try:
            super().delete_queryset(request, queryset)
        except ProtectedError as error:
            raise_protected(error)


def raise_protected(error: ProtectedError):
    raise PermissionDenied(f"Cannot delete: history refers to it ({len(error.protected_objects)} item(s)). "
                           "Archive it instead.")
