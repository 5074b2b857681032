"""Admin pages of records nobody edits (the delivery log, the publishing audit trail): view only, for everyone."""


class ReadOnlyAdminMixin:
    """No add, change or delete, whatever the user's permissions: the page shows the record, read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
