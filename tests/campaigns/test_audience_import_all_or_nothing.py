"""An audience import is all or nothing (issue 9): one over-long value refuses the file, never a 500, never half."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ace_admin.campaigns import audiences
from tests.factories import AudienceFactory

pytestmark = pytest.mark.django_db


def _file(bad_row: int, rows: int = 2500) -> bytes:
    lines = ["email,lms_user_id,language"]
    for number in range(1, rows + 1):
        uid = "9" * 65 if number == bad_row else str(number)
        lines.append(f"p{number}@example.org,{uid},en")
    return ("\n".join(lines) + "\n").encode()


def test_one_over_long_user_id_refuses_the_whole_file_with_its_row_number(admin_client):
    audience = AudienceFactory(name="List")
    url = reverse("admin:ace_admin_audience_import", args=[audience.pk])
    response = admin_client.post(url, {"file": SimpleUploadedFile("people.csv", _file(bad_row=2400))})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing imported: 1 invalid row(s)" in page
    assert "row 2401: the user id is longer than 64 characters" in page  # row 1 is the header
    assert not audience.members.exists()  # not 2,000 rows committed: none


def test_every_column_is_checked_and_a_good_file_imports_whole():
    audience = AudienceFactory(name="List")
    data = (b"email,lms_user_id,language\n"
            + b"a" * 250 + b"@example.org,1,en\n"
            + b"ok@example.org,2," + b"x" * 30 + b"\n"
            + b"fine@example.org,3,fr\n")
    report = audiences.import_members(audience, data, "csv")
    assert report.refused and report.added == 0
    assert report.problems == ["row 2: the address is longer than 254 characters",
                               "row 3: the language is longer than 20 characters"]
    report = audiences.import_members(audience, _file(bad_row=0, rows=2500), "csv", batch_size=1000)
    assert not report.refused and report.added == 2500 and audience.members.count() == 2500


def test_an_oversized_list_is_refused_before_it_is_read(admin_client, settings):
    settings.ACE_ADMIN_IMPORT_MAX_BYTES = 1000
    audience = AudienceFactory(name="List")
    url = reverse("admin:ace_admin_audience_import", args=[audience.pk])
    response = admin_client.post(url, {"file": SimpleUploadedFile("people.csv", _file(bad_row=0, rows=200))})
    assert "imports accept at most 1000 bytes" in response.content.decode()
    assert not audience.members.exists()
