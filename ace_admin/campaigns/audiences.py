"""Audiences: imported lists streamed in key order, groups registered by platform code, and list import.

A platform defines a group of recipients in code and registers it by name; marketing staff then pick it
for an audience of kind "group defined in code" and give its settings in JSON::

    # myplatform/audiences.py, imported from an AppConfig.ready()
    from ace_admin.campaigns.audiences import Row, register

    @register("lms.enrolled_learners", label="Learners enrolled in a course",
              params_help='{"course_id": "course-v1:Org+Course+Run"}', required=["course_id"])
    def enrolled_learners(params):
        for user in User.objects.filter(courseenrollment__course_id=params["course_id"]).order_by("pk").iterator():
            yield Row(lms_user_id=user.pk, email=user.email, language="", context={"first_name": user.first_name})

The function must yield people in a stable order (a run that resumes after a worker died skips the ones
it already queued by position) and should stream (``.iterator()``), never build the whole list.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from import_export.formats.base_formats import CSV, XLSX

from ace_admin.campaigns.registry import CodeAudience, Row, check_params, register, registered
from ace_admin.importing import check_size
from ace_admin.models import Audience, AudienceMember, normalize_language

# Row, register, registered and check_params are the public API platform code uses from here (README).
__all__ = ["CodeAudience", "ImportReport", "Row", "check_params", "import_members", "register", "registered",
           "stream"]


def stream(audience, after: int, size: int) -> Iterator[tuple[list[dict], int]]:
    """Chunks of at most ``size`` recipient payloads following position ``after``, each with the position to
    resume from: the last member's id for an imported list (keyset pagination), a count for a code group."""
    if audience.kind == Audience.KIND_STATIC:
        cursor = after
        while True:
            chunk = list(AudienceMember.objects.filter(audience=audience, pk__gt=cursor).order_by("pk")
                         .values_list("pk", "lms_user_id", "email", "language", "context")[:size])
            if not chunk:
                return
            cursor = chunk[-1][0]
            yield [Row(email, uid, lang, ctx).as_payload() for _, uid, email, lang, ctx in chunk], cursor
        return
    check_params(audience.code_name, audience.params)
    rows = iter(registered()[audience.code_name].function(dict(audience.params)))
    position = after
    rows = itertools.islice(rows, after, None)
    while True:
        chunk = [row.as_payload() for row in itertools.islice(rows, size)]
        if not chunk:
            return
        position += len(chunk)
        yield chunk, position


# --- Importing a list ----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: how many were added, which rows were skipped as duplicates, and — when the file was
    refused because of invalid rows — which rows and why (then nobody was added)."""

    added: int = 0
    duplicates: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)

    MAX_PROBLEMS = 50

    def skip(self, kind: str, row_number: int, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(f"row {row_number}: {text}")

    @property
    def refused(self) -> bool:
        return self.invalid > 0

    def summary(self) -> str:
        if self.refused:
            return (f"Nothing imported: {self.invalid} invalid row(s) (listed below). Correct them and import the "
                    "whole file again.")
        return f"{self.added} added, {self.duplicates} duplicate(s) skipped."


_COLUMNS = {"email": ("email", "email_address", "e-mail", "mail"),
            "lms_user_id": ("lms_user_id", "user_id", "id"),
            "language": ("language", "lang")}


def _column(headers: list[str], names) -> int | None:
    lowered = [str(header or "").strip().lower() for header in headers]
    return next((lowered.index(name) for name in names if name in lowered), None)


def import_members(audience, data: bytes, file_format: str, batch_size: int = 2000) -> ImportReport:
    """Add the people in a CSV or XLSX file (columns email, lms_user_id, language; other columns become
    personal details) to ``audience``, all or nothing.

    Every value is checked against its column first: one invalid row (an invalid or over-long address, a user
    id or language longer than its column) refuses the whole file, and the report lists each such row by
    number. Duplicates (in the file or already on the list) are skipped and reported. The rows are then
    added in one transaction: a database error adds nobody and is reported as a ``ValidationError``.
    """

    formats = {"csv": CSV, "xlsx": XLSX}
    if file_format not in formats:
        raise ValidationError(f"Unsupported file type {file_format!r}: use CSV or Excel (.xlsx).")
    check_size(len(data))
    fmt = formats[file_format]()
    try:
        payload = data.decode("utf-8-sig") if fmt.is_binary() is False else data
        dataset = fmt.create_dataset(payload)
    except UnicodeDecodeError:
        raise ValidationError("The CSV file is not UTF-8 text: save it as 'CSV UTF-8' and try again.")
    except Exception as error:
        raise ValidationError(f"The file could not be read as {file_format.upper()}: {error}")
    headers = list(dataset.headers or [])
    email_col = _column(headers, _COLUMNS["email"])
    if email_col is None:
        raise ValidationError("The file needs an 'email' column (found: " + (", ".join(map(str, headers)) or "none")
                              + ").")
    id_col = _column(headers, _COLUMNS["lms_user_id"])
    lang_col = _column(headers, _COLUMNS["language"])
    extra = [(index, str(name).strip()) for index, name in enumerate(headers)
             if index not in (email_col, id_col, lang_col) and str(name or "").strip()]
    report = ImportReport()
    seen: set[str] = set()
    members: list[AudienceMember] = []
    sizes = {name: AudienceMember._meta.get_field(name).max_length for name in ("email", "lms_user_id", "language")}

    for number, values in enumerate(dataset, start=2):  # row 1 holds the headers
        email = str(values[email_col] or "").strip().lower()
        if not email and not any(str(v or "").strip() for v in values):
            continue  # a blank line
        uid = values[id_col] if id_col is not None else ""
        uid = "" if uid is None else str(int(uid) if isinstance(uid, float) and uid.is_integer() else uid).strip()
        language = normalize_language(str(values[lang_col] or "")) if lang_col is not None else ""
        problems = []
        if len(email) > sizes["email"]:
            problems.append(f"the address is longer than {sizes['email']} characters")
        else:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(f"{email or '(empty)'} is not a valid email address")
        if len(uid) > sizes["lms_user_id"]:
            problems.append(f"the user id is longer than {sizes['lms_user_id']} characters")
        if len(language) > sizes["language"]:
            problems.append(f"the language is longer than {sizes['language']} characters")
        if problems:
            report.skip("invalid", number, "; ".join(problems))
            continue
        if email in seen:
            report.skip("duplicates", number, f"{email} appears more than once in the file")
            continue
        seen.add(email)
        member = AudienceMember(
            audience=audience, email=email, lms_user_id=uid, language=language,
            context={name: _json_safe(values[index], json) for index, name in extra if values[index] not in (None, "")})
        member._row_number = number
        members.append(member)
    if report.refused:
        report.duplicates = 0
        report.problems = [line for line in report.problems if "more than once" not in line]
        return report
    try:
        with transaction.atomic():
            for start in range(0, len(members), batch_size):
                pending = members[start:start + batch_size]
                existing = set(AudienceMember.objects.filter(audience=audience, email__in=[m.email for m in pending])
                               .values_list("email", flat=True))
                for member in pending:
                    if member.email in existing:
                        report.skip("duplicates", member._row_number, f"{member.email} is already on this list")
                fresh = [member for member in pending if member.email not in existing]
                AudienceMember.objects.bulk_create(fresh)
                report.added += len(fresh)
    except DatabaseError as error:
        raise ValidationError(f"Nobody was imported: the database refused the list ({type(error).__name__}). "
                              "Try again; if it happens again, tell your administrator.")
    return report


def _json_safe(value, json):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)
