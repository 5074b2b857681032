"""Audiences: streaming in chunks from a position, registered code groups and their settings, list import errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ace_admin.campaigns import audiences
from ace_admin.models import Audience
from tests.campaigns.conftest import make_audience
from tests.factories import AudienceFactory

pytestmark = pytest.mark.django_db


def test_a_list_streams_in_key_order_chunks_one_query_each_and_resumes_from_a_position():
    audience = make_audience(7)
    with CaptureQueriesContext(connection) as queries:
        chunks = list(audiences.stream(audience, 0, 3))
    assert [len(chunk) for chunk, _ in chunks] == [3, 3, 1]
    assert len(queries) == 4  # one per chunk, plus the empty one that ends it
    assert all("LIMIT 3" in q["sql"] for q in queries)
    _, after_first = chunks[0]
    rest = [row["email"] for chunk, _ in audiences.stream(audience, after_first, 3) for row in chunk]
    assert rest == [f"p{n}@example.org" for n in range(4, 8)]


def test_a_code_group_resumes_by_position():
    audience = Audience(name="Demo", kind=Audience.KIND_CODE, code_name="demo.sample_learners",
                        params={"count": 5, "language": "FR_ca"})
    chunks = list(audiences.stream(audience, 2, 2))
    assert [[row["email"] for row in chunk] for chunk, _ in chunks] == [
        ["learner3@example.org", "learner4@example.org"], ["learner5@example.org"]]
    assert [position for _, position in chunks] == [4, 5]
    assert chunks[0][0][0]["lang"] == "fr-ca"


def test_unknown_groups_and_missing_settings_are_explained():
    @audiences.register("tests.needs_course", label="needs a course", params_help='{"course_id": "x"}',
                        required=["course_id"])
    def needs_course(params):
        return []

    with pytest.raises(ValidationError, match="No group named 'tests.nope' is registered"):
        Audience(name="a", kind=Audience.KIND_CODE, code_name="tests.nope").full_clean()
    with pytest.raises(ValidationError, match="Missing setting"):
        Audience(name="b", kind=Audience.KIND_CODE, code_name="tests.needs_course", params={}).full_clean()
    with pytest.raises(ValueError, match="already registered"):
        audiences.register("tests.needs_course", label="again")(lambda params: [])


def test_import_refuses_unknown_formats_and_non_utf8_csv():
    audience = AudienceFactory(name="List")
    with pytest.raises(ValidationError, match="Unsupported file type"):
        audiences.import_members(audience, b"email\n", "ods")
    with pytest.raises(ValidationError, match="not UTF-8"):
        audiences.import_members(audience, "email\nzoé@example.org\n".encode("latin-1"), "csv")
    assert not audience.members.exists()
