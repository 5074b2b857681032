"""The check before a campaign run is launched, and the audience figures the campaign form shows.

:func:`check` renders the campaign's message for a sample of its audience — the first and last members, a
few at random and one per language present — through the real render path (``ace.prepare`` then
``ace.presentation.render``: the DB loader, the sandbox, the files) and walks the compiled templates it used
(:mod:`ace_admin.campaigns.variables`) to find the variables each recipient's context lacks or leaves empty:
with ``ACE_RAISE_TEMPLATE_ERRORS`` off they would render as ``''``. Template errors, missing templates,
values the sandbox refuses and missing or empty variables all block the launch (``Report.blocking``).

:func:`figures` counts the audience: size, languages, how many are opted out or suppressed for this
message type, and the estimated duration at the configured rate limit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.template import TemplateDoesNotExist
from django.template.base import Origin

from ace import ace as ace_send
from ace import presentation
from ace.channel import ChannelType, channels, get_channel_for_message
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.campaigns import audiences, ratelimit, variables
from ace_admin.campaigns.messages import campaign_message
from ace_admin.campaigns.registry import Row
from ace_admin.content.loader import Loader, render_session
from ace_admin.content.safety import GuardedTemplate, project_engine
from ace_admin.content.sandbox import collect_refusals
from ace_admin.models import Audience, AudienceMember, OptOut, Suppression, Template, identity_hash

#: Members picked at random for the sample (besides the first, the last and one per language).
RANDOM_MEMBERS = 3
#: A group defined in code is read this far (at most) to pick its sample and count it.
SCAN_LIMIT = 200_000
_CHUNK = 2000


@dataclass
class Finding:
    """One problem: what (``kind``), which variable, in which template, for whom (a few of them, and how many)."""

    kind: str  # "undefined", "empty", "template_error", "template_missing", "refused", "no_channel"
    template: str = ""
    variable: str = ""
    detail: str = ""
    recipients: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    count: int = 0

    def describe(self) -> str:
        who = ", ".join(self.recipients[:3]) + (f" and {self.count - 3} more" if self.count > 3 else "")
        where = f" in {self.template}" if self.template else ""
        lang = f" ({', '.join(self.languages)})" if any(self.languages) else ""
        text = {
            "undefined": f"{{{{ {self.variable} }}}} is not defined{where}: it renders empty",
            "empty": f"{{{{ {self.variable} }}}} is empty{where}",
            "refused": f"{{{{ {self.variable} }}}} is not available to templates edited in the admin{where}",
            "template_error": f"template error{where}: {self.detail}",
            "template_missing": f"template missing: {self.template or self.detail}",
            "no_channel": f"no channel: {self.detail}",
        }.get(self.kind, self.detail)
        return f"{text} — for {who}{lang}" if who else text

    def as_json(self) -> dict:
        return {"kind": self.kind, "template": self.template, "variable": self.variable, "detail": self.detail,
                "recipients": self.recipients[:5], "languages": self.languages, "count": self.count,
                "text": self.describe()}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # messages rendered
    languages: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return bool(self.findings)

    def as_json(self) -> list[dict]:
        return [finding.as_json() for finding in self.findings]

    def summary(self) -> str:
        if not self.findings:
            return f"Preflight passed: {self.checked} sample message(s) rendered completely."
        shown = "; ".join(finding.describe() for finding in self.findings[:5])
        more = f" (and {len(self.findings) - 5} more)" if len(self.findings) > 5 else ""
        return (f"Blocked by the preflight check ({self.checked} sample message(s) rendered): {shown}{more}. "
                "Nothing was sent.")

    def add(self, kind, row, language, template="", variable="", detail="") -> None:
        key = (kind, template, variable, detail if kind not in ("undefined", "empty", "refused") else "")
        for finding in self.findings:
            if (finding.kind, finding.template, finding.variable,
                    finding.detail if kind not in ("undefined", "empty", "refused") else "") == key:
                break
        else:
            finding = Finding(kind, template, variable, detail)
            self.findings.append(finding)
        address = row.get("email") or row.get("id") or "?"
        if address not in finding.recipients:
            finding.count += 1
            if len(finding.recipients) < 5:
                finding.recipients.append(address)
        if language not in finding.languages:
            finding.languages.append(language)


# --- the sample ---------------------------------------------------------------------------------------------------


def _member_row(member) -> dict:
    return Row(member.email, member.lms_user_id, member.language, member.context).as_payload()


def sample(audience, rng=None) -> list[dict]:
    """The rows preflight renders for: first, last, ``RANDOM_MEMBERS`` at random, and the first of each language."""
    rng = rng or random.Random()
    picked: dict[tuple, dict] = {}

    def keep(row):
        if row is not None:
            picked.setdefault((row["id"], row["email"]), row)

    if audience.kind == Audience.KIND_STATIC:
        members = AudienceMember.objects.filter(audience=audience)
        bounds = members.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            return []
        for member in (members.order_by("pk").first(), members.order_by("-pk").first()):
            keep(_member_row(member))
        for _ in range(RANDOM_MEMBERS):
            member = members.filter(pk__gte=rng.randint(bounds["low"], bounds["high"])).order_by("pk").first()
            keep(_member_row(member) if member else None)
        for language in members.order_by().values_list("language", flat=True).distinct():
            keep(_member_row(members.filter(language=language).order_by("pk").first()))
        return list(picked.values())
    reservoir, languages, last, seen = [], {}, None, 0
    for chunk, _ in audiences.stream(audience, 0, _CHUNK):
        for row in chunk:
            seen += 1
            if seen == 1:
                keep(row)
            languages.setdefault(row["lang"], row)
            if len(reservoir) < RANDOM_MEMBERS:
                reservoir.append(row)
            else:
                index = rng.randrange(seen)
                if index < RANDOM_MEMBERS:
                    reservoir[index] = row
            last = row
        if seen >= SCAN_LIMIT:
            break
    for row in [last, *reservoir, *languages.values()]:
        keep(row)
    return list(picked.values())


# --- rendering and walking --------------------------------------------------------------------------------------


def _resolver(session):
    """name -> the compiled template this render used for it (DB version or file), else the file, else None."""
    engine = project_engine()
    served = {}
    for name, what in session.served:
        served.setdefault(name, what)
    contents = dict(Template.objects.filter(pk__in=[pk for pk in served.values()
                                                    if isinstance(pk, int) and not isinstance(pk, bool)])
                    .values_list("pk", "content"))
    cache = {}

    def resolve(name):
        if name in cache:
            return cache[name]
        found = None
        what = served.get(name)
        if isinstance(what, int) and not isinstance(what, bool) and what in contents:
            found = GuardedTemplate(contents[what], Origin(name=f"database:{what}", template_name=name), name,
                                    engine)
        else:
            for template_loader in engine.template_loaders:
                if isinstance(template_loader, Loader):
                    continue
                try:
                    found = template_loader.get_template(name)
                    break
                except TemplateDoesNotExist:
                    continue
        cache[name] = found
        return found

    return resolve


def _channel_types(campaign) -> list[ChannelType]:
    enabled = channels()
    return [channel_type for channel_type in ChannelType if channel_type in enabled
            and campaign.channels in ("all", channel_type.value)]


def check_row(campaign, row: dict, report: Report, message_type=None) -> None:
    """Render ``campaign``'s message (or an A/B variant's: ``message_type``) for ``row`` on each of its channel
    types and add what is wrong to ``report``."""
    message = campaign_message(campaign, row, message_type=message_type)
    language = message.language or ""
    ace_send.prepare(message)  # what send() adds before rendering: unsubscribe and preference links...
    context = dict(message.context)
    for channel_type in _channel_types(campaign):
        try:
            channel = get_channel_for_message(channel_type, message)
        except Exception as error:  # noqa: BLE001 — reported, never raised
            report.add("no_channel", row, language, detail=f"{channel_type.value}: {error}")
            continue
        renderer = presentation.RENDERERS[channel_type]
        tops = [renderer.get_template_for_message(channel, message, filename)
                for filename in renderer.template_files.values()]
        report.checked += 1
        with render_session() as session, collect_refusals() as refused:
            try:
                presentation.render(channel, message)
            except TemplateDoesNotExist as error:
                report.add("template_missing", row, language, template=str(error))
                continue
            except Exception as error:  # noqa: BLE001 — any template failure is a finding
                name = session.asked[-1] if session.asked else ""
                report.add("template_error", row, language, template=name,
                           detail=f"{type(error).__name__}: {error}")
                continue
        for path in refused:
            report.add("refused", row, language, variable=path)
        resolve = _resolver(session)
        served = {name for name, _ in session.served}
        used = variables.uses([resolve(name) for name in tops if name in served], resolve)
        for use, kind in variables.problems(used, context):
            report.add(kind, row, language, template=use.template, variable=use.path)


def check(campaign, rng=None) -> Report:
    """The preflight of ``campaign``: its message rendered for a sample of its audience (see module docstring)."""
    report = Report()
    try:
        rows = sample(campaign.audience, rng)
    except Exception as error:  # noqa: BLE001 — an audience that cannot be read blocks with its reason
        report.findings.append(Finding("template_error", detail=f"the audience cannot be read: {error}"))
        return report
    # Every A/B variant goes to part of the audience: each is checked for everyone in the sample.
    variants = [None, *(variant.message_type for variant in (
        campaign.variants.select_related("message_type") if campaign.pk else ()))]
    for row in rows:
        for message_type in variants:
            check_row(campaign, row, report, message_type)
        language = row.get("lang") or campaign.language or ""
        if language not in report.languages:
            report.languages.append(language)
    return report


# --- the form's figures ----------------------------------------------------------------------------------------


def _excluded(rows, message_type) -> tuple[set, set]:
    """Of ``rows``: the keys of those opted out of ``message_type`` and of those suppressed."""
    ids = {row["id"] for row in rows if row["id"]}
    emails = {row["email"] for row in rows if row["email"]}
    what = Q(category="", message_name="") | Q(app_label=message_type.app_label, message_name=message_type.name)
    if message_type.category:
        what |= Q(category=message_type.category)
    opted = set()
    for user_id, email in OptOut.objects.filter(Q(lms_user_id__in=ids) | Q(email__in=emails)).filter(
            what).values_list("lms_user_id", "email"):
        opted.update(key for key in (("id", user_id), ("email", email)) if key[1])
    hashes = {identity_hash(value) for value in ids | emails}
    blocked = set()
    for address_hash, user_hash in Suppression.objects.filter(
            Q(address_hash__in=hashes) | Q(user_id_hash__in=hashes), lifted_at__isnull=True).values_list(
            "address_hash", "user_id_hash"):
        blocked.update({address_hash, user_hash} - {""})
    return opted, blocked


def figures(audience, message_type, language: str = "", channel_type: ChannelType = ChannelType.EMAIL) -> dict:
    """What the campaign form shows about sending ``message_type`` to ``audience``."""
    size = opted_out = suppressed = 0
    languages: dict[str, int] = {}
    complete = True
    if audience.kind == Audience.KIND_STATIC:
        for lang, count in (AudienceMember.objects.filter(audience=audience).order_by().values_list("language")
                            .annotate(n=Count("id")).values_list("language", "n")):
            languages[lang or language or ""] = languages.get(lang or language or "", 0) + count
    for chunk, _ in audiences.stream(audience, 0, _CHUNK):
        size += len(chunk)
        if audience.kind != Audience.KIND_STATIC:
            for row in chunk:
                key = row["lang"] or language or ""
                languages[key] = languages.get(key, 0) + 1
        if message_type is not None and not message_type.transactional:
            opted, blocked = _excluded(chunk, message_type)
            for row in chunk:
                if identity_hash(row["email"]) in blocked or (row["id"] and identity_hash(row["id"]) in blocked):
                    suppressed += 1
                elif ("email", row["email"]) in opted or ("id", row["id"]) in opted:
                    opted_out += 1
        if size >= SCAN_LIMIT and audience.kind != Audience.KIND_STATIC:
            complete = False
            break
    sendable = max(size - opted_out - suppressed, 0)
    rate, channel_name = _rate(message_type, channel_type)
    seconds = sendable / rate if rate else None
    return {"size": size, "complete": complete, "languages": dict(sorted(languages.items())),
            "opted_out": opted_out, "suppressed": suppressed, "sendable": sendable, "rate": rate,
            "channel": channel_name, "seconds": seconds, "duration": _duration_text(sendable, rate, seconds)}


def _rate(message_type, channel_type) -> tuple[float | None, str]:
    if message_type is None or channel_type not in channels():
        return None, ""
    message = Message(app_label=message_type.app_label, name=message_type.name,
                      recipient=Recipient(lms_user_id=None, email_address="someone@example.org"), context={})
    try:
        channel = get_channel_for_message(channel_type, message)
    except Exception:  # noqa: BLE001 — no channel: no rate to show
        return None, ""
    return ratelimit.rate_for(channel.name), channel.name or ""


def _duration_text(sendable: int, rate, seconds) -> str:
    if not rate:
        return "no rate limit is configured: as fast as the workers go"
    if seconds < 90:
        return f"about {max(round(seconds), 1) if sendable else 0} seconds at {rate:g} messages per second"
    if seconds < 5400:
        return f"about {round(seconds / 60)} minutes at {rate:g} messages per second"
    return f"about {seconds / 3600:.1f} hours at {rate:g} messages per second"
