"""The ``openedx.ace.policy`` plug-in applying the admin's policy rules, opt-outs and disabled message types.

Per send it makes at most two queries: one for the recipient's opt-outs and suppressed addresses
(non-transactional messages only) and one counting recent deliveries when a frequency cap applies.
Message types and rules are kept in memory until the shared stamp changes (``ace_admin.stamp``).
"""

from __future__ import annotations

import contextlib
import contextvars
from datetime import timedelta

from django.db.models import CharField, Count, F, IntegerField, Q, Value

from ace.channel import ChannelType
from ace.policy import Policy, PolicyResult
from ace.utils.date import get_current_time
from ace_admin import stamp
from ace_admin.content import message_types
from ace_admin.models import DeliveryLog, OptOut, PolicyRule, Suppression, identity_hash
from ace_admin.models.log import fit_recipient_id

DISABLED_REASON = "message type disabled"
#: An archived message type is kept for its history and never sent (also not transactional ones).
ARCHIVED_REASON = "message type archived"

class _Rule:
    __slots__ = ("pk", "kind", "channel_type", "message_type_id", "category", "max_messages", "period_seconds", "label")

    def __init__(self, rule):
        self.pk, self.kind, self.channel_type = rule.pk, rule.kind, rule.channel_type
        self.message_type_id, self.category = rule.message_type_id, rule.category
        self.max_messages, self.period_seconds, self.label = rule.max_messages, rule.period_seconds, rule.label

    def applies_to(self, info, category: str) -> bool:
        if self.message_type_id is not None and (info is None or info.pk != self.message_type_id):
            return False
        return not self.category or self.category == category

    def channel_types(self) -> list[ChannelType]:
        return [ChannelType(self.channel_type)] if self.channel_type else list(ChannelType)


def _load_rules() -> list[_Rule]:
    return [_Rule(rule) for rule in PolicyRule.objects.filter(enabled=True).select_related("message_type")]


rules = stamp.StampedValue(_load_rules)


def _recipient_filter(message, id_field: str, email_field: str, fit_id=str) -> Q | None:
    recipient = message.recipient
    if recipient is None:
        return None
    condition = Q()
    if recipient.lms_user_id not in (None, ""):
        condition |= Q(**{id_field: fit_id(recipient.lms_user_id)})
    if recipient.email_address:
        condition |= Q(**{email_field: recipient.email_address.strip().lower()})
    return condition or None


class DatabasePolicy(Policy):
    """Denies channel types by the admin's rules: disabled message types, deny rules, opt-outs, frequency caps."""

    def check(self, message) -> PolicyResult:
        info = message_types.message_type_for(message)
        if info is not None and info.archived:
            return self._result(message, {channel_type: ARCHIVED_REASON for channel_type in ChannelType})
        if info is not None and not info.enabled:
            return self._result(message, {channel_type: DISABLED_REASON for channel_type in ChannelType})
        transactional = message_types.is_transactional(message, info)
        category = message_types.category_of(message, info)
        applicable = [rule for rule in rules.get(message) if rule.applies_to(info, category)]
        denied: dict[ChannelType, str] = {}
        for rule in applicable:
            if rule.kind == "deny":
                for channel_type in rule.channel_types():
                    denied.setdefault(channel_type, rule.label)
        # A test send from the admin preview reaches the staff member whatever their opt-outs and caps.
        test = bool((message.options or {}).get("is_test"))
        if not transactional and not test and len(denied) < len(ChannelType):
            for channel_type, reason in self._opt_out(message, info, category).items():
                denied.setdefault(channel_type, reason)
        override = bool((message.options or {}).get("override_frequency_capping"))
        caps = [rule for rule in applicable if rule.kind == "frequency_cap" and rule.max_messages
                and rule.period_seconds and any(ct not in denied for ct in rule.channel_types())]
        if caps and not transactional and not override and not test:
            for rule in self._exceeded(message, caps):
                for channel_type in rule.channel_types():
                    denied.setdefault(channel_type, rule.label)
        return self._result(message, denied)

    @staticmethod
    def _result(message, denied: dict) -> PolicyResult:
        if not denied:
            return PolicyResult(deny=set())
        # The reason per channel type travels on the outcome: the delivery log names the exact rule.
        reasons = list(dict.fromkeys(denied.values()))
        return PolicyResult(deny=set(denied), reason="; ".join(reasons), reasons=dict(denied))

    @staticmethod
    def _opt_out(message, info, category: str) -> dict[ChannelType, str]:
        """Channel types denied by the recipient's opt-outs and suppressions, read in one query (a UNION)."""
        who = _recipient_filter(message, "lms_user_id", "email")
        if who is None:
            return {}
        prefetched = _prefetched.get()
        if prefetched is not None:  # a campaign batch read every recipient's rows in two queries
            found = prefetched.rows_for(message, info, category)
        else:
            found = DatabasePolicy._opt_out_rows(message, who, category)
        denied: dict[ChannelType, str] = {}
        for pk, kind, text, opt_type in found:
            if kind == 0:
                scope = (f"category {text}" if text else f"message type {message.app_label}.{message.name}"
                         if opt_type else "all non-transactional messages")
                reason, channel_types = f"opt-out #{pk} ({scope})", list(ChannelType)
            else:
                # A dead address stops email only; an erased person receives nothing non-transactional.
                reason = f"suppressed address #{pk} ({text})"
                channel_types = list(ChannelType) if text == Suppression.REASON_ERASED else [ChannelType.EMAIL]
            for channel_type in channel_types:
                denied.setdefault(channel_type, reason)
        return denied

    @staticmethod
    def _opt_out_rows(message, who, category: str):
        """The recipient's opt-outs and suppressions as (pk, kind, text, message type) rows, in one query."""
        # An opt-out with neither category nor message type covers every non-transactional message. Opt-outs of
        # one message type name it by natural key: they hold whether or not the admin knows the type.
        what = Q(category="", message_name="") | Q(app_label=message.app_label, message_name=message.name)
        if category:
            what |= Q(category=category)
        # Suppressions keep only fingerprints of erased people, so they are matched by hash.
        recipient = message.recipient
        hashes = Q()
        if recipient.email_address:
            hashes |= Q(address_hash=identity_hash(recipient.email_address))
        if recipient.lms_user_id not in (None, ""):
            hashes |= Q(user_id_hash=identity_hash(recipient.lms_user_id))
        # The same four columns on both sides: (pk, kind 0 = opt-out / 1 = suppression, category or reason, type).
        # order_by(): the models' default ordering is not allowed inside a UNION on SQLite.
        opt_outs = OptOut.objects.filter(who & what).order_by().annotate(
            k=Value(0, output_field=IntegerField()), a=F("category"), b=F("message_name")).values_list(
            "pk", "k", "a", "b")
        suppressions = Suppression.objects.in_force().filter(hashes).order_by().annotate(
            k=Value(1, output_field=IntegerField()), a=F("reason"),
            b=Value("", output_field=CharField())).values_list("pk", "k", "a", "b")
        return sorted(opt_outs.union(suppressions, all=True), key=lambda row: (row[1], row[0]))

    @staticmethod
    def _exceeded(message, caps: list[_Rule]) -> list[_Rule]:
        """The caps the recipient has reached, counted in one query over the delivery log."""
        who = _recipient_filter(message, "recipient_id", "recipient_address", fit_id=fit_recipient_id)
        if who is None:
            return []
        now = get_current_time()
        longest = max(rule.period_seconds for rule in caps)
        counts = {}
        for rule in caps:
            scope = Q(created_at__gte=now - timedelta(seconds=rule.period_seconds))
            if rule.channel_type:
                scope &= Q(channel_type=rule.channel_type)
            if rule.message_type_id is not None:
                scope &= Q(message_type_id=rule.message_type_id)
            elif rule.category:
                scope &= Q(message_type__category=rule.category)
            # A message sent over email and push is one message for the cap.
            counts[f"cap_{rule.pk}"] = Count("message_uuid", distinct=True, filter=scope)
        totals = (DeliveryLog.objects.filter(who, status="sent", transactional=False, is_test=False,
                                             created_at__gte=now - timedelta(seconds=longest))
                  .aggregate(**counts))
        return [rule for rule in caps if totals[f"cap_{rule.pk}"] >= rule.max_messages]


# --- Batches: the opt-outs and suppressions of many recipients in two queries ------------------------------

_prefetched: contextvars.ContextVar = contextvars.ContextVar("ace_admin_policy_prefetch", default=None)


class _Prefetched:
    """Opt-outs and suppressions of a batch's recipients, answering what ``_opt_out``'s UNION query would."""

    def __init__(self, messages):
        self.hash = identity_hash
        ids, emails, hashes = set(), set(), set()
        for message in messages:
            recipient = message.recipient
            if recipient is None:
                continue
            if recipient.lms_user_id not in (None, ""):
                ids.add(str(recipient.lms_user_id))
                hashes.add(identity_hash(recipient.lms_user_id))
            if recipient.email_address:
                emails.add(recipient.email_address.strip().lower())
                hashes.add(identity_hash(recipient.email_address))
        self.opt_outs: dict[tuple, list] = {}
        for row in OptOut.objects.filter(Q(lms_user_id__in=ids) | Q(email__in=emails)).values_list(
                "pk", "lms_user_id", "email", "category", "app_label", "message_name"):
            for key in (("id", row[1]), ("email", row[2])):
                if key[1]:
                    self.opt_outs.setdefault(key, []).append(row)
        self.suppressions: dict[str, list] = {}
        for pk, address_hash, user_id_hash, reason in Suppression.objects.in_force().filter(
                Q(address_hash__in=hashes) | Q(user_id_hash__in=hashes)).values_list(
                "pk", "address_hash", "user_id_hash", "reason"):
            for key in {address_hash, user_id_hash} - {""}:
                self.suppressions.setdefault(key, []).append((pk, reason))

    def rows_for(self, message, info, category: str) -> list[tuple]:
        recipient = message.recipient
        opt_outs, suppressions = {}, {}
        if recipient.lms_user_id not in (None, ""):
            for row in self.opt_outs.get(("id", str(recipient.lms_user_id)), []):
                opt_outs[row[0]] = row
            for pk, reason in self.suppressions.get(self.hash(recipient.lms_user_id), []):
                suppressions[pk] = reason
        if recipient.email_address:
            for row in self.opt_outs.get(("email", recipient.email_address.strip().lower()), []):
                opt_outs[row[0]] = row
            for pk, reason in self.suppressions.get(self.hash(recipient.email_address), []):
                suppressions[pk] = reason
        found = [(pk, 0, opt_category, opt_name) for pk, _, _, opt_category, opt_app, opt_name in opt_outs.values()
                 if (not opt_category and not opt_name) or (category and opt_category == category)
                 or (opt_name and (opt_app, opt_name) == (message.app_label, message.name))]
        found += [(pk, 1, reason, "") for pk, reason in suppressions.items()]
        return sorted(found, key=lambda row: (row[1], row[0]))


@contextlib.contextmanager
def prefetch(messages):
    """Within the block, ``DatabasePolicy`` reads the opt-outs and suppressions of ``messages``' recipients
    from two queries made here instead of one per message (campaign batches)."""
    token = _prefetched.set(_Prefetched(messages))
    try:
        yield
    finally:
        _prefetched.reset(token)
