"""Recipients' addresses masked for staff who may not see them (``ace_admin.view_recipient_address``).

``ada@example.org`` -> ``a***@example.org``: enough to tell rows apart and see the domain, not to write to anyone.
"""

from __future__ import annotations

import re

PERMISSION = "ace_admin.view_recipient_address"
_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[A-Za-z0-9.-]+")


def can_see_addresses(user) -> bool:
    return bool(user and user.has_perm(PERMISSION))


def mask_address(address: str | None) -> str:
    if not address:
        return address or ""
    local, at, domain = str(address).rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_text(text: str | None) -> str:
    """Every address inside ``text`` (an SMTP error, a suppression's details) masked."""
    return _ADDRESS.sub(lambda match: mask_address(match.group(0)), text or "")


def for_user(user, address: str | None) -> str:
    return (address or "") if can_see_addresses(user) else mask_address(address)


class MaskedAddressesMixin:
    """A ModelAdmin whose ``masked_fields`` (addresses) and ``masked_text_fields`` (free text that may contain
    addresses) are shown masked to staff without the permission: in the change list, the change page (read-only
    then), search (not by address) and exports."""

    masked_fields: tuple[str, ...] = ()
    masked_text_fields: tuple[str, ...] = ()
    #: Other change-list columns that show addresses -> the masked column shown instead.
    masked_columns: dict[str, str] = {}

    def _masking(self, request) -> bool:
        return not can_see_addresses(request.user)

    def _column(self, name: str) -> str:
        if name in self.masked_fields + self.masked_text_fields:
            return f"masked_{name}"
        return self.masked_columns.get(name, name)

    def get_list_display(self, request):
        fields = list(super().get_list_display(request))
        return [self._column(name) for name in fields] if self._masking(request) else fields

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if links and self._masking(request):
            links = [self._column(name) for name in links]
        return links

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if self._masking(request):  # no finding out whether someone is a recipient by typing their address
            fields = [name for name in fields if name not in self.masked_fields + self.masked_text_fields]
        return fields

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and self._masking(request):
            # Shown only: a masking user may not change these objects (has_change_permission below).
            for name in self.masked_fields:
                setattr(obj, name, mask_address(getattr(obj, name)))
            for name in self.masked_text_fields:
                setattr(obj, name, mask_text(getattr(obj, name)))
            obj._ace_masked = True
        return obj

    def has_change_permission(self, request, obj=None):
        if obj is not None and getattr(obj, "_ace_masked", False):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and getattr(obj, "_ace_masked", False):
            return False
        return super().has_delete_permission(request, obj)

    def get_export_resource_kwargs(self, request, **kwargs):
        kwargs = super().get_export_resource_kwargs(request, **kwargs)
        if self._masking(request):
            kwargs["masked_fields"] = self.masked_fields
            kwargs["masked_text_fields"] = self.masked_text_fields
        return kwargs


def _masked_display(name: str, text: bool):
    def display(self, obj):
        value = getattr(obj, name)
        return mask_text(value) if text else mask_address(value)

    display.short_description = name.replace("_", " ")
    display.admin_order_field = name
    return display


def add_masked_displays(admin_class):
    """Class decorator: a ``masked_<field>`` display method for each masked field (column titles from the model)."""
    for name in admin_class.masked_fields + admin_class.masked_text_fields:
        method = _masked_display(name, name in admin_class.masked_text_fields)
        try:
            method.short_description = admin_class.model._meta.get_field(name).verbose_name
        except Exception:  # noqa: BLE001 — a display method, not a field: keep the name
            pass
        setattr(admin_class, f"masked_{name}", method)
    return admin_class


class MaskingResourceMixin:
    """An import-export resource that masks the given fields when exporting for a masking user."""

    def __init__(self, *args, masked_fields=(), masked_text_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._masked, self._masked_text = tuple(masked_fields), tuple(masked_text_fields)

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if field.attribute in self._masked:
            return mask_address(value)
        if field.attribute in self._masked_text:
            return mask_text(value)
        return value
