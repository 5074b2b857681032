"""``Message.from_string`` raises ``InvalidMessageError`` and nothing else for any malformed input (issue 9)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ace.errors import InvalidMessageError
from ace.message import Message, MessageType
from ace.recipient import Recipient
from ace.serialization import MAX_NESTING_DEPTH, MAX_SERIALIZED_CHARS


def _valid():
    return json.loads(str(Message(app_label="a", name="b", recipient=Recipient(lms_user_id=1, email_address="x@y"),
                                  context={"k": 1})))


def _decodes_or_refuses(text):
    try:
        Message.from_string(text)
    except InvalidMessageError:
        pass  # the only error allowed


TAGS = ["dict", "tuple", "set", "frozenset", "datetime", "date", "time", "timedelta", "uuid", "decimal", "float",
        "ace.recipient:Recipient", "nope"]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
        st.builds(lambda tag, v: {"__ace__": tag, "v": v}, st.sampled_from(TAGS), children),
    ),
    max_leaves=20,
)
FIELDS = ["app_label", "name", "uuid", "send_uuid", "recipient", "context", "options", "language",
          "expiration_time", "log_level"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_is_decoded_or_refused(text):
    _decodes_or_refuses(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_arbitrary_field_shapes_are_decoded_or_refused(fields):
    document = _valid()
    document.update(fields)
    _decodes_or_refuses(json.dumps(document))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_context_values_are_decoded_or_refused(value):
    document = _valid()
    document["context"] = {"x": value}
    _decodes_or_refuses(json.dumps(document))


@pytest.mark.parametrize("payload", [
    # The escapes the issue names: RecursionError, OverflowError, decimal.InvalidOperation.
    '{"app_label": "a", "name": "b", "context": ' + "[" * 100000 + "]" * 100000 + "}",
    '{"app_label": "a", "name": "b", "context": {"x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}}",
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "timedelta", "v": [1e300, 0, 0]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "timedelta", "v": [999999999999, 0, 0]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "decimal", "v": "not a number"}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "decimal", "v": [1, 2]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "datetime", "v": ["2020-01-01T00:00", "../x", 0]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "datetime", "v": ["2020-01-01", "No/Zone", 0]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "set", "v": [[1], [2]]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "dict", "v": [[[1], 2]]}}}',
    '{"app_label": "a", "name": "b", "context": {"x": {"__ace__": "float", "v": "1e99999x"}}}',
    '{"app_label": "a", "name": "b", "context": {"x": ' + "9" * 5000 + "}}",
    '{"app_label": "a", "name": "b", "expiration_time": "9999999-01-01"}',
    '{"app_label": "a", "name": "b", "recipient": {"__ace__": "tuple", "v": 3}}',
    '{"app_label": "a", "name": "b", "uuid": 12}',
    "\ud800", b"\xff\xfe", 12, None, "[]", "null",
])
def test_known_escapes_are_invalid_message_errors(payload):
    with pytest.raises(InvalidMessageError):
        Message.from_string(payload)


def test_size_and_depth_limits():
    with pytest.raises(InvalidMessageError, match="characters"):
        Message.from_string(" " * (MAX_SERIALIZED_CHARS + 1))
    document = _valid()
    nested = 1
    for _ in range(MAX_NESTING_DEPTH):
        nested = [nested]
    document["context"] = {"x": nested}
    with pytest.raises(InvalidMessageError, match="nested"):
        Message.from_string(json.dumps(document))
    with pytest.raises(InvalidMessageError):
        MessageType.from_string("[" * 50000)


def test_an_ordinary_message_still_round_trips():
    message = Message(app_label="a", name="b", recipient=Recipient(lms_user_id=1, email_address="x@y"),
                      context={"k": [1, {"d": 2}]})
    assert Message.from_string(str(message)) == message
