"""Copying a message type with its templates: the start of an A/B variant (change the subject, keep the rest).

The copy gets a new name (``newsletter`` -> ``newsletter_b``, ``newsletter_c``...) and every template of the
original as the original sends it: the published database templates, and the template files of parts that have
no database template. A manager's copy is published at once (it is word for word what already goes out, and
each copied template is logged as published "copied unchanged from ..."); an editor's copy holds the same text as
drafts, which a manager publishes after review, like any edit. Drafts of the original are not copied: they have
not been reviewed. Nothing is copied when one template cannot be (the copy is all or nothing).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ace_admin.content import publishing
from ace_admin.content.discovery import file_templates_for
from ace_admin.models import MessageType, Template
from ace_admin.models.publishing import PublishingEvent

#: Fields of a message type a copy keeps (what it claims to be, how it is sent).
COPIED_FIELDS = ("description", "category", "transactional", "engagement_tracking", "enabled", "from_address",
                 "reply_to", "sample_context", "seed_addresses")


def copy_name(message_type: MessageType) -> str:
    """The first free name among ``<name>_b``, ``<name>_c``... (then ``<name>_copy2``...)."""
    taken = set(MessageType.objects.filter(app_label=message_type.app_label,
                                           name__startswith=f"{message_type.name}_").values_list("name", flat=True))
    for suffix in [*"bcdefgh", *(f"copy{n}" for n in range(2, 1000))]:
        candidate = f"{message_type.name}_{suffix}"[:150]
        if candidate not in taken:
            return candidate
    raise ValidationError("Too many copies of this message type already.")


def copy_message_type(message_type: MessageType, user, name: str | None = None) -> MessageType:
    """A copy of ``message_type`` and its templates (see the module docstring). Returns the new message type."""
    publish = publishing.can_publish(user)
    with transaction.atomic():
        copy = MessageType(app_label=message_type.app_label, name=name or copy_name(message_type),
                           source=MessageType.SOURCE_DATABASE,
                           **{field: getattr(message_type, field) for field in COPIED_FIELDS})
        copy.description = (f"Copy of {message_type} (e.g. an A/B variant). {copy.description}").strip()
        copy.full_clean()
        copy.save()
        prefix_from = f"{message_type.app_label}/edx_ace/{message_type.name}/"
        prefix_to = f"{copy.app_label}/edx_ace/{copy.name}/"
        covered = set()
        for template in message_type.templates.filter(published=True, archived=False).order_by("pk"):
            covered.add((template.channel_type, template.part))
            _copy_one(copy, template.name.replace(prefix_from, prefix_to, 1), template.content, template.language,
                      template.site_id, template.name, user, publish)
        for file in file_templates_for(message_type.app_label, message_type.name):
            if (file.channel_type, file.part) in covered:
                continue
            _copy_one(copy, file.name.replace(prefix_from, prefix_to, 1), file.read(), "", None,
                      f"the file {file.name}", user, publish)
    return copy


def _copy_one(copy, name, text, language, site_id, origin, user, publish) -> None:
    template = Template(name=name, message_type=copy, language=language, site_id=site_id)
    if publish:
        template.content, template.published = text, True
    else:
        template.content, template.published, template.draft_content = "", False, text
        template.draft_author = user if getattr(user, "pk", None) else None
    try:
        template.full_clean()
    except ValidationError as error:
        raise ValidationError(f"{origin} cannot be copied: {' '.join(error.messages)}") from error
    template.save(author=user if getattr(user, "pk", None) else None, comment=f"copied from {origin}")
    if publish:
        publishing.record(PublishingEvent.PUBLISH, user, template=template, revision=template.content_revision,
                          note=f"copied unchanged from {origin}")
