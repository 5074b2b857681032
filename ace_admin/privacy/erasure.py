"""Erasure of a recipient's personal data (GDPR "right to be forgotten"), keeping only hashed suppressions.

``erase_recipient("ann@example.com")`` or ``erase_recipient("1234")`` (a user id) finds every address
and user id linked to that person in ace_admin's tables, then: anonymises their delivery-log rows
(counts stay right, nobody can tell whose they were), removes them from audiences and from pending
campaign batches, deletes their opt-outs and earlier suppressions, and records one suppression that
holds only SHA-256 fingerprints. That suppression keeps the next import or audience
from subscribing them again: the policy plug-in matches recipients on the fingerprints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import CharField, Q, TextField, Value
from django.db.models.functions import Cast, Concat, Replace

from ace_admin.models import DeliveryLog, OptOut, Suppression, identity_hash


@dataclass
class ErasureReport:
    """What an erasure changed, for the command's output and the admin message (no personal data)."""

    emails: int = 0
    user_ids: int = 0
    delivery_log_rows: int = 0
    audience_members: int = 0
    campaign_batches: int = 0
    opt_outs: int = 0
    suppressions_kept: list[int] = field(default_factory=list)

    def __str__(self):
        return (f"{self.emails} address(es) and {self.user_ids} user id(s): {self.delivery_log_rows} delivery log "
                f"rows anonymised, {self.audience_members} audience memberships and {self.campaign_batches} pending "
                f"campaign batches cleaned, {self.opt_outs} opt-outs deleted; hashed suppression(s) "
                f"{', '.join(f'#{pk}' for pk in self.suppressions_kept)} kept.")


def parse_identifier(value: str) -> tuple[set[str], set[str]]:
    """``(emails, user_ids)`` for an identifier typed by a person: an address (has an @) or a user id."""
    value = (value or "").strip()
    if not value:
        raise ValidationError("Give the person's email address or user id.")
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(f"{value!r} is not a valid email address.")
        return {value.lower()}, set()
    if any(char.isspace() for char in value):
        raise ValidationError(f"{value!r} is neither an email address nor a user id.")
    return set(), {value}


def _model(name):
    try:
        return apps.get_model("ace_admin", name)
    except LookupError:  # campaigns not installed in this version
        return None


def linked_identities(emails: set[str], user_ids: set[str]) -> tuple[set[str], set[str]]:
    """Every address and user id that the tables link to the given ones (one hop: rows naming both)."""
    emails, user_ids = set(emails), set(user_ids)
    sources = [(DeliveryLog, "recipient_id", "recipient_address"), (OptOut, "lms_user_id", "email")]
    member = _model("AudienceMember")
    if member is not None:
        sources.append((member, "lms_user_id", "email"))
    found_emails, found_ids = set(emails), set(user_ids)
    for model, id_field, email_field in sources:
        who = Q(**{f"{email_field}__in": emails}) | Q(**{f"{id_field}__in": user_ids})
        for user_id, email in model.objects.filter(who).values_list(id_field, email_field).distinct():
            if user_id:
                found_ids.add(str(user_id))
            if email:
                found_emails.add(email.strip().lower())
    return found_emails, found_ids


def _scrub_text(queryset, field_name: str, emails: set[str]) -> None:
    """Replace each address inside a free-text column (an SMTP error quotes the address it refused)."""
    for email in emails:
        for spelling in {email, email.upper()}:
            queryset.filter(**{f"{field_name}__icontains": spelling}).update(
                **{field_name: Replace(field_name, Value(spelling), Value("[erased]"))})


def _clean_batches(emails: set[str], user_ids: set[str]) -> int:
    batch_model = _model("CampaignBatch")
    if batch_model is None:
        return 0
    text = Cast("recipients", TextField())
    candidates = Q()
    for email in emails:
        candidates |= Q(_text__icontains=email)
    for user_id in user_ids:
        candidates |= Q(_text__contains=user_id)
    if not candidates:
        return 0
    changed = 0
    for batch in batch_model.objects.annotate(_text=text).filter(candidates).select_for_update():
        rows = batch.recipients if isinstance(batch.recipients, list) else []
        kept = [row for row in rows if not (isinstance(row, dict) and (
            str(row.get("email") or "").strip().lower() in emails or str(row.get("id") or "") in user_ids))]
        if len(kept) != len(rows):
            batch.recipients = kept
            batch.save(update_fields=["recipients"])
            changed += 1
    return changed


def erase_recipient(identifier: str) -> ErasureReport:
    """Erase the person named by ``identifier`` (address or user id); see the module docstring."""
    emails, user_ids = linked_identities(*parse_identifier(identifier))
    report = ErasureReport(emails=len(emails), user_ids=len(user_ids))
    with transaction.atomic():
        log = DeliveryLog.objects.filter(Q(recipient_address__in=emails) | Q(recipient_id__in=user_ids))
        _scrub_text(log, "error", emails)
        # Each row gets its own placeholder: a campaign run allows one row per (recipient, channel).
        report.delivery_log_rows = log.update(
            recipient_address="", recipient_id=Concat(Value("erased-"), Cast("id", CharField())))
        member = _model("AudienceMember")
        if member is not None:
            report.audience_members = member.objects.filter(
                Q(email__in=emails) | Q(lms_user_id__in=user_ids)).delete()[0]
        report.campaign_batches = _clean_batches(emails, user_ids)
        report.opt_outs = OptOut.objects.filter(Q(email__in=emails) | Q(lms_user_id__in=user_ids)).delete()[0]
        # The admin's history names objects by their __str__ ("ann@example.com: newsletter").
        _scrub_text(LogEntry.objects.all(), "object_repr", emails)
        hashes = {identity_hash(email) for email in emails}
        # Earlier suppressions (a bounce quoting the address) give way to the one erasure entry below.
        Suppression.objects.filter(Q(address_hash__in=hashes) | Q(user_id_hash__in=[
            identity_hash(user_id) for user_id in user_ids])).delete()
        user_hash = identity_hash(sorted(user_ids)[0]) if user_ids else ""
        targets = sorted(hashes) or [""]
        for index, address_hash in enumerate(targets):
            extra_ids = sorted(user_ids)[1:] if index == 0 else []
            kept = Suppression.objects.create(
                address_hash=address_hash, user_id_hash=user_hash if index == 0 else "",
                reason=Suppression.REASON_ERASED, source="erasure",
                details="Personal data erased on request; only fingerprints are kept.")
            report.suppressions_kept.append(kept.pk)
            for other in extra_ids:  # a person with several user ids: one fingerprint row each
                report.suppressions_kept.append(Suppression.objects.create(
                    user_id_hash=identity_hash(other), reason=Suppression.REASON_ERASED, source="erasure",
                    details="Personal data erased on request; only fingerprints are kept.").pk)
    return report
