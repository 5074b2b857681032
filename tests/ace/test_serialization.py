"""str(msg) and Message.from_string are exact inverses, whatever the context holds (property tests)."""

import json
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ace.errors import InvalidMessageError
from ace.message import Message, MessageType
from ace.recipient import Recipient
from ace.serialization import MessageEncoder


def typed(value):
    """A form of ``value`` where equal means same types too (1 != 1.0 != True, tuple != list, tz kept)."""
    if isinstance(value, dict):
        return ("dict", sorted(((typed(k), typed(v)) for k, v in value.items()), key=repr))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, set | frozenset):
        return (type(value).__name__, sorted((typed(item) for item in value), key=repr))
    if isinstance(value, datetime | time):
        # fold only means something for a named zone (a repeated or skipped hour).
        fold = value.fold if isinstance(value.tzinfo, zoneinfo.ZoneInfo) else None
        return (type(value).__name__, value.isoformat(), repr(value.tzinfo), fold)
    if isinstance(value, Message | MessageType | Recipient):
        return (type(value).__name__, typed(value.__dict__))
    return (type(value).__name__, repr(value))


# Whole-second offsets: CPython's fromisoformat reads "+00:00:00.000001" as UTC, and no real zone has
# sub-second offsets (historic ones with seconds, like Paris' +00:09:21 before 1911, are covered).
offsets = st.integers(min_value=-86399, max_value=86399).map(lambda seconds: timedelta(seconds=seconds))
fixed_zones = st.builds(timezone, offsets)
named_zones = st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]).map(zoneinfo.ZoneInfo)
aware_datetimes = st.datetimes(min_value=datetime(1900, 1, 1), timezones=st.one_of(st.just(UTC), fixed_zones,
                                                                                   named_zones))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(),
    aware_datetimes, st.dates(), st.times(), st.timedeltas(), st.uuids(),
    st.decimals(allow_nan=False), st.decimals(allow_nan=False, places=3),
)
special_keys = st.sampled_from(["recipient", "uuid", "__ace__", "v", "app_label", "context", "options", ""])
keys = st.one_of(st.text(), special_keys, st.integers(), st.booleans(), st.none(), st.uuids(), st.dates(),
                 st.tuples(st.integers(), st.text()))
hashables = st.one_of(st.integers(), st.text(), st.uuids(), st.dates(), st.tuples(st.integers()))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.sets(hashables, max_size=4),
        st.frozensets(hashables, max_size=4),
    ),
    max_leaves=12,
)
contexts = st.dictionaries(st.one_of(st.text(), special_keys, st.integers()), values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(context=contexts, options=st.dictionaries(st.one_of(st.text(), special_keys), values, max_size=3),
       expiration=st.none() | aware_datetimes, language=st.none() | st.text(max_size=5),
       recipient=st.none() | st.builds(Recipient, st.integers() | st.text(), st.none() | st.emails()))
def test_message_round_trips_exactly(context, options, expiration, language, recipient):
    message = Message(app_label="tests", name="greeting", recipient=recipient, context=context, options=options,
                      expiration_time=expiration, language=language, send_uuid=UUID(int=5))
    text = str(message)
    decoded = Message.from_string(text)
    assert typed(decoded) == typed(message)
    assert decoded == message
    assert str(decoded) == text
    json.loads(text)  # plain JSON, nothing exotic


@settings(max_examples=100, deadline=None)
@given(context=contexts)
def test_message_type_round_trips_exactly(context):
    msg_type = MessageType(app_label="tests", name="greeting", context=context, options={"transactional": True})
    decoded = MessageType.from_string(str(msg_type))
    assert typed(decoded) == typed(msg_type)


def test_awkward_context_round_trips():
    context = {
        "recipient": {"lms_user_id": 1, "email_address": "x@example.com"},
        "uuid": "not-a-uuid",
        "__ace__": "datetime",
        "nested": {"__ace__": "uuid", "v": "00000000-0000-0000-0000-000000000001"},
        1: "int key", (1, "a"): "tuple key", None: "none key",
        "when": datetime(2030, 5, 6, 7, 8, 9, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        "day": date(2030, 1, 1), "at": time(12, 30), "span": timedelta(days=2, microseconds=3),
        "id": UUID(int=42), "price": Decimal("19.990"), "tags": {"a", "b"}, "frozen": frozenset({1}),
        "pair": (1, [2, (3,)]), "inf": float("inf"),
    }
    message = Message(app_label="tests", name="greeting", recipient=Recipient(1, "a@example.com"), context=context)
    decoded = Message.from_string(str(message))
    assert typed(decoded.context) == typed(context)
    assert decoded.recipient == Recipient(1, "a@example.com")
    assert decoded.uuid == message.uuid


def test_named_time_zone_survives_so_dst_arithmetic_stays_right():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    winter = datetime(2030, 1, 15, 9, 0, tzinfo=paris)
    message = Message(app_label="a", name="b", recipient=None, context={"when": winter})
    decoded = Message.from_string(str(message)).context["when"]
    assert decoded.tzinfo == paris
    assert (decoded + timedelta(days=180)).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("moment", [
    datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),  # the repeated hour
    datetime(2030, 3, 31, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),  # an hour that does not exist
])
def test_dst_edge_times_round_trip_exactly(moment):
    message = Message(app_label="a", name="b", recipient=None, context={"when": moment}, expiration_time=moment)
    decoded = Message.from_string(str(message))
    assert typed(decoded.context["when"]) == typed(moment)
    assert typed(decoded.expiration_time) == typed(moment)


def test_decodes_an_edx_ace_document():
    document = json.dumps({
        "app_label": "my_app", "name": "test_message",
        "recipient": {"lms_user_id": 123456, "email_address": "a_user@example.com"},
        "expiration_time": "2030-02-03T04:05:06.000007+00:00",
        "context": {"stuff": "to personalize", "when": "2030-01-01T00:00:00+00:00", "nested": {"n": [1, 2]}},
        "send_uuid": "11111111-2222-3333-4444-555555555555",
        "options": {"transactional": True},
        "language": "en",
        "log_level": None,
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    })
    message = Message.from_string(document)
    assert message.recipient == Recipient(123456, "a_user@example.com")
    assert message.expiration_time == datetime(2030, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert message.send_uuid == UUID("11111111-2222-3333-4444-555555555555")
    assert message.uuid == UUID("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    assert message.context == {"stuff": "to personalize", "when": "2030-01-01T00:00:00+00:00",
                               "nested": {"n": [1, 2]}}
    assert message.options == {"transactional": True}
    assert message.language == "en"
    assert Message.from_string(str(message)) == message


def test_naive_datetimes_round_trip_naive_as_in_edx_ace():
    naive = datetime(2030, 1, 1, 8, 30)
    message = Message(app_label="a", name="b", recipient=None, expiration_time=naive,
                      context={"deep": {"when": naive}})
    back = Message.from_string(str(message))
    assert (back.expiration_time, back.context) == (naive, {"deep": {"when": naive}})
    assert json.loads(str(message))["expiration_time"] == "2030-01-01T08:30:00"  # edx-ace's plain form


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "null"])
def test_garbage_is_refused_clearly(text):
    with pytest.raises(InvalidMessageError, match="Not a serialised Message"):
        Message.from_string(text)


def test_unknown_type_in_context_refused_clearly():
    message = Message(app_label="a", name="b", recipient=None, context={"obj": object()})
    with pytest.raises(InvalidMessageError, match=r"context\['obj'\] holds a object"):
        str(message)


def test_message_encoder_default_handles_documented_types():
    encoded = json.dumps({"d": datetime(2030, 1, 1, tzinfo=UTC), "u": UUID(int=1), "t": (1, 2)}, cls=MessageEncoder)
    assert json.loads(encoded) == {"d": "2030-01-01T00:00:00+00:00", "u": str(UUID(int=1)), "t": [1, 2]}
    with pytest.raises(TypeError):
        MessageEncoder().default(object())


@pytest.mark.parametrize("document,words", [
    ('{"name": "x"}', "missing"),
    ('{"app_label": "a", "name": "x", "recipient": null, "uuid": "zz"}', "UUID"),
    ('{"app_label": "a", "name": "x", "recipient": null, "expiration_time": "garbage"}', "garbage"),
    ('{"app_label": "a", "name": "x", "recipient": {"foo": 1}}', "Recipient"),
    ('{"app_label": "a", "name": "x", "recipient": null, "context": {"__ace__": "nope", "v": 1}}', "nope"),
    ('{"app_label": "a", "name": "x", "recipient": null, "context": {"__ace__": "uuid", "v": "bad"}}', "UUID"),
    ('{"app_label": "a", "name": "x", "recipient": null, "context": [1]}', "dict"),
    ('{"app_label": null, "name": "x", "recipient": null}', "must be a string"),
])
def test_malformed_document_gives_invalid_message_error(document, words):
    with pytest.raises(InvalidMessageError, match=words):
        Message.from_string(document)


def test_lazy_translations_are_carried_as_text():
    from django.utils.translation import gettext_lazy

    message = Message(app_label="a", name="b", recipient=None, context={"greeting": gettext_lazy("Hello")})
    assert Message.from_string(str(message)).context == {"greeting": "Hello"}


def test_personalized_message_round_trips_with_the_type_fields():
    later = datetime(2031, 1, 1, tzinfo=UTC)
    msg_type = MessageType(app_label="tests", name="greeting", expiration_time=later, log_level=10,
                           options={"transactional": True}, context={"a": (1, 2)})
    message = msg_type.personalize(Recipient(3, "c@example.com"), "de", {"b": {4}})
    assert (message.expiration_time, message.log_level, message.send_uuid) == (later, 10, msg_type.uuid)
    decoded = Message.from_string(str(message))
    assert typed(decoded) == typed(message)


def test_messages_pickle_for_task_queues_that_use_pickle():
    import pickle

    message = Message(app_label="tests", name="greeting", recipient=Recipient(1, "a@example.com"),
                      context={"when": datetime(2030, 1, 1, tzinfo=UTC), "ids": {1, 2}}, options={"x": (1,)})
    assert typed(pickle.loads(pickle.dumps(message))) == typed(message)
