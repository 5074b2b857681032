"""Drafts, review and publishing of templates: the one path that changes what is sent, with its audit trail.

A template row holds two texts: ``content``, the published version the database loader serves (only when
``published``), and ``draft_content``, edits saved in the admin but not sent. Every saved text is a
``TemplateRevision``, so a draft, the published text and every older version have numbers.

Publishing, a scheduled publish, a rollback to an older version, unpublishing and archiving all go through
:func:`publish` / :func:`unpublish` / :func:`archive` here, which check the rules, change the row under a lock and
write a ``PublishingEvent`` (who, when, what, which version):

- only users with ``ace_admin.publish_template`` (managers) publish, refused here whatever the page showed;
- with ``ACE_ADMIN_PUBLISH_REQUIRES_SECOND_PERSON``, the author of a transactional message type's version cannot
  publish (or schedule) it alone;
- the HTML body of a non-transactional email must render a link to ``unsubscribe_url``
  (``ACE_ADMIN_REQUIRE_UNSUBSCRIBE_LINK``; off: a warning);
- a scheduled publish is claimed by one conditional ``UPDATE`` before it runs, so however many workers run
  :func:`publish_due` at once, each schedule publishes exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ace.channel import ChannelType
from ace_admin.content.safety import check_template_source
from ace_admin.models import MessageType, PublishingEvent, Template, TemplateRevision
from ace_admin.preview.render import PreviewRequest, render_preview
from ace_admin.settings import admin_settings

#: The address the unsubscribe check renders for (never sent to).
CHECK_ADDRESS = "publish-check@example.invalid"


class PublishRefused(Exception):
    """Publishing was refused for a reason a person can act on (the message says which)."""


@dataclass
class Published:
    """What a publish did: the version now live and any warnings."""

    template: Template
    revision: int | None
    warnings: list[str] = field(default_factory=list)


def can_publish(user) -> bool:
    return bool(user and user.has_perm("ace_admin.publish_template"))


def _require_publisher(user) -> None:
    if not can_publish(user):
        raise PermissionDenied("Only managers (the publish permission) can publish, schedule, roll back, "
                               "unpublish or archive a published template.")


# --- drafts ------------------------------------------------------------------------------------------------------


def save_draft(template: Template, text: str, user) -> bool:
    """Save ``text`` as the draft of ``template`` (its other fields as they are on the instance); nothing sent changes.

    A new template is saved unpublished with ``text`` as its content. Returns whether the text changed (a save
    of the unchanged text records no version).
    """
    if template.pk is None:
        template.content, template.published = text, False
        template.save(author=user, comment="new (not published)")
        return True
    stored = Template.objects.get(pk=template.pk)
    template.content, template.content_revision = stored.content, stored.content_revision
    template.draft_content, template.draft_author = stored.draft_content, stored.draft_author
    template.draft_updated_at = stored.draft_updated_at
    changed = text != stored.working_content
    with transaction.atomic():
        if changed:
            check_template_source(text, template.name)
            template.draft_content = None if text == stored.content else text
            template.draft_author, template.draft_updated_at = user, timezone.now()
            if template.draft_content is not None:
                _record_version(template, text, user, "draft")
        template.save(author=user if changed else None)
    return changed


def _record_version(template: Template, text: str, user, comment: str) -> int:
    last = template.revisions.order_by("-number").first()
    if last is not None and last.content == text:
        return last.number
    number = (last.number + 1) if last else 1
    TemplateRevision.objects.create(template=template, number=number, content=text, author=user, comment=comment)
    return number


def draft_rows(message_type) -> list[dict]:
    """The drafts a preview in "draft" mode uses: this message type's templates and the shared layouts, each with a
    draft (or never published), as the preview's rows (name, language, site, content)."""
    queryset = Template.objects.filter(Q(message_type__isnull=True) | Q(message_type=message_type), archived=False)
    rows = []
    for name, language, site_id, content, draft, published in queryset.values_list(
            "name", "language", "site_id", "content", "draft_content", "published"):
        if draft is not None or not published:
            rows.append({"name": name, "language": language, "site": site_id,
                         "content": draft if draft is not None else content})
    return rows


# --- the rules -------------------------------------------------------------------------------------------------


def _check_second_person(template: Template, user, author) -> None:
    if not admin_settings.ACE_ADMIN_PUBLISH_REQUIRES_SECOND_PERSON:
        return
    message_type = template.message_type
    if message_type is None or not message_type.transactional or author is None:
        return
    if author.pk == user.pk:
        raise PublishRefused(
            f"{message_type} is transactional: its templates need a second person. You wrote this version, so "
            "another manager must publish it.")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.update(value.strip() for name, value in attrs if name == "href" and value)


def unsubscribe_problem(template: Template, text: str) -> str | None:
    """Why ``text`` as this template would send a marketing email without an unsubscribe link, or None.

    Only the HTML body of an email of a non-transactional message type is checked: the whole email is rendered
    with the message type's sample data (every other part as published) and must contain ``<a href>`` equal to
    the ``unsubscribe_url`` the send adds."""
    message_type = template.message_type
    if message_type is None or message_type.transactional or template.channel_type != "email" \
            or template.part != "body.html":
        return None
    preview = render_preview(PreviewRequest(
        message_type=message_type, context=dict(message_type.sample_context or {}), language=template.language,
        site=template.site, channel_type=ChannelType.EMAIL, overlay={template.name: text}), CHECK_ADDRESS)
    if preview.error is not None:
        return (f"The email cannot be rendered with its sample data to check its unsubscribe link: "
                f"{preview.error.message}")
    url = preview.message_context.get("unsubscribe_url")
    if not url:
        return None
    parser = _Links()
    parser.feed(preview.html_document)
    if url in parser.hrefs:
        return None
    return (f"{message_type} is not transactional, but its email has no unsubscribe link. Add "
            "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> to the body (the layout ace/email/base.html "
            "shows one in its footer), then publish again.")


def _check_unsubscribe(template: Template, text: str) -> list[str]:
    problem = unsubscribe_problem(template, text)
    if problem is None:
        return []
    if admin_settings.ACE_ADMIN_REQUIRE_UNSUBSCRIBE_LINK:
        raise PublishRefused(problem)
    return [problem]


# --- the audit trail ---------------------------------------------------------------------------------------------


def record(action: str, user, *, template: Template | None = None, message_type: MessageType | None = None,
           revision: int | None = None, previous: int | None = None, note: str = "") -> PublishingEvent:
    if template is not None and message_type is None:
        message_type = template.message_type
    return PublishingEvent.objects.create(
        action=action, template=template, message_type=message_type,
        subject=str(template if template is not None else message_type)[:400], revision=revision,
        previous_revision=previous, user=user if user is not None and user.pk else None,
        username=getattr(user, "username", "") or "", note=note)


# --- publishing --------------------------------------------------------------------------------------------------


def _version(template: Template, number: int | None, text: str) -> TemplateRevision | None:
    if number is not None:
        return template.revisions.filter(number=number).first()
    return template.revisions.filter(content=text).order_by("-number").first()


def publish(template: Template, user, *, revision: int | None = None, note: str = "") -> Published:
    """Make the draft (or, with ``revision``, that older version: a rollback) the published content.

    Raises ``PermissionDenied`` without the publish permission and :class:`PublishRefused` when a rule refuses
    (the refusal is in the audit trail too).
    """
    _require_publisher(user)
    action = PublishingEvent.PUBLISH if revision is None else PublishingEvent.ROLLBACK
    return _publish(template.pk, user, revision, action, note)


def _publish(pk: int, user, number: int | None, action: str, note: str) -> Published:
    try:
        with transaction.atomic():
            template = Template.objects.select_for_update().get(pk=pk)
            if number is None:
                if template.draft_content is None and template.published and not template.archived:
                    raise PublishRefused("There is nothing to publish: no draft, and the published version is "
                                         "the current one.")
                text = template.working_content
            else:
                version = template.revisions.filter(number=number).first()
                if version is None:
                    raise PublishRefused(f"{template} has no version {number}.")
                text = version.content
            version = _version(template, number, text)
            _check_second_person(template, user, version.author if version is not None else template.draft_author)
            warnings = _check_unsubscribe(template, text)
            previous = template.content_revision if template.published else None
            template.content, template.published, template.archived = text, True, False
            if template.draft_content == text or number is None:
                template.draft_content = template.draft_author = template.draft_updated_at = None
            template.publish_at = template.publish_revision = template.publish_scheduled_by = None
            comment = ""
            if action == PublishingEvent.ROLLBACK:
                comment = f"restored version {number}"  # a new version: the history reads in order
            elif version is not None:
                template.content_revision = version.number  # the reviewed version itself goes live
            template.save(author=user, comment=comment)
            record(action, user, template=template, revision=template.content_revision, previous=previous,
                   note="\n".join(filter(None, [note, *warnings])))
            return Published(template, template.content_revision, warnings)
    except PublishRefused as refused:
        stored = Template.objects.filter(pk=pk).first()
        record(PublishingEvent.REFUSED, user, template=stored, revision=number, note=str(refused))
        raise


def unpublish(template: Template, user) -> None:
    """Stop sending ``template`` (the file on disk, or another language or site, is used instead)."""
    _require_publisher(user)
    with transaction.atomic():
        count = Template.objects.filter(pk=template.pk, published=True).update(published=False)
        if count:
            record(PublishingEvent.UNPUBLISH, user, template=template, previous=template.content_revision)


def archive(templates, user) -> int:
    """Archive templates (kept with their history, never sent); a published one needs the publish permission."""
    templates = list(templates)
    if any(template.published for template in templates):
        _require_publisher(user)
    with transaction.atomic():
        for template in templates:
            Template.objects.filter(pk=template.pk).update(
                archived=True, published=False, publish_at=None, publish_revision=None, publish_scheduled_by=None)
            record(PublishingEvent.ARCHIVE, user, template=template,
                   previous=template.content_revision if template.published else None)
    return len(templates)


def record_message_types(action: str, message_types, user) -> None:
    """Audit entries for message types archived or restored (an archived message type is never sent)."""
    for message_type in message_types:
        record(action, user, message_type=message_type)


# --- scheduling --------------------------------------------------------------------------------------------------


def schedule(template: Template, user, when, *, revision: int | None = None) -> Published:
    """Publish the draft (or ``revision``) at ``when``; the rules are checked now and again when it happens."""
    _require_publisher(user)
    if when <= timezone.now():
        raise PublishRefused("Give a time in the future (or publish now).")
    try:
        return _schedule(template, user, when, revision)
    except PublishRefused as refused:
        record(PublishingEvent.REFUSED, user, template=template, revision=revision,
               note=f"scheduling refused: {refused}")
        raise


def _schedule(template: Template, user, when, revision: int | None) -> Published:
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=template.pk)
        if revision is None:
            if template.draft_content is None and template.published:
                raise PublishRefused("There is no draft to schedule.")
            text = template.working_content
            version = _version(template, None, text)
            number = version.number if version is not None else _record_version(template, text, user, "draft")
        else:
            version = _version(template, revision, "")
            if version is None:
                raise PublishRefused(f"{template} has no version {revision}.")
            text, number = version.content, revision
        _check_second_person(template, user, version.author if version is not None else user)
        warnings = _check_unsubscribe(template, text)
        Template.objects.filter(pk=template.pk).update(publish_at=when, publish_revision=number,
                                                       publish_scheduled_by=user)
        record(PublishingEvent.SCHEDULE, user, template=template, revision=number,
               note="\n".join([f"to be published at {when.isoformat()}", *warnings]))
    return Published(template, number, warnings)


def unschedule(template: Template, user) -> bool:
    _require_publisher(user)
    with transaction.atomic():
        count = Template.objects.filter(pk=template.pk, publish_at__isnull=False).update(
            publish_at=None, publish_revision=None, publish_scheduled_by=None)
        if count:
            record(PublishingEvent.UNSCHEDULE, user, template=template)
    return bool(count)


def publish_due(now=None) -> list[tuple[int, str]]:
    """Publish every scheduled version whose time has come; returns (template pk, "published" or the refusal).

    Each schedule is claimed by a conditional UPDATE (``publish_at`` still the value read): on PostgreSQL a second
    worker's UPDATE waits for the first one's transaction and then matches no row, on SQLite writes are
    serialised; either way exactly one worker publishes it.
    """
    now = now or timezone.now()
    due = list(Template.objects.filter(publish_at__lte=now).order_by("publish_at", "pk").values_list(
        "pk", "publish_at", "publish_revision", "publish_scheduled_by"))
    done = []
    for pk, at, number, scheduled_by in due:
        with transaction.atomic():
            claimed = Template.objects.filter(pk=pk, publish_at=at, publish_revision=number).update(
                publish_at=None, publish_revision=None, publish_scheduled_by=None)
            if not claimed:
                continue  # another worker took it
            user = _user(scheduled_by)
            try:
                if not can_publish(user):
                    raise PublishRefused("The manager who scheduled it can no longer publish.")
                # _publish rolls its own changes back on a refusal and then records it, in this transaction.
                _publish(pk, user, number, PublishingEvent.SCHEDULED_PUBLISH, f"scheduled for {at.isoformat()}")
                done.append((pk, "published"))
            except PublishRefused as refused:
                if not can_publish(user):
                    record(PublishingEvent.REFUSED, user, template=Template.objects.get(pk=pk), revision=number,
                           note=str(refused))
                done.append((pk, str(refused)))
    return done


def _user(pk):
    if pk is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=pk, is_active=True).first()
