"""Round-tripping messages through JSON: ``str(msg)`` and ``Message.from_string`` are exact inverses.

Plain JSON loses types: a datetime becomes a string, a tuple a list, ``{1: 'a'}`` becomes
``{'1': 'a'}``. Values that JSON cannot carry as themselves are written as a tagged object
``{"__ace__": TAG, "v": ...}``, and a dict that happens to use the key ``"__ace__"`` is itself
tagged, so no context — whatever keys it holds — is ever mistaken for something else. Documents
written by edx-ace (untagged) still decode, to the plain values they hold.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
import zoneinfo

import attr
from django.utils.functional import Promise

from ace.errors import InvalidMessageError

TAG = "__ace__"

#: Limits on what ``from_string`` accepts: a queued message is a few kilobytes; anything far beyond these is
#: malformed or hostile and is refused with ``InvalidMessageError`` before it can exhaust the worker.
MAX_SERIALIZED_CHARS = 16 * 1024 * 1024
MAX_NESTING_DEPTH = 100


class MessageEncoder(json.JSONEncoder):
    """A JSON encoder for the values messages carry that plain JSON cannot encode."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.date | datetime.time):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        if isinstance(o, Promise):
            return str(o)
        if isinstance(o, decimal.Decimal):
            return str(o)
        if isinstance(o, set | frozenset | tuple):
            return list(o)
        if hasattr(o, "to_json"):
            return o.to_json()
        return super().default(o)


def _tagged(tag, value):
    return {TAG: tag, "v": value}


def encode_value(value, path="context"):
    """``value`` as a JSON-safe structure that :func:`decode_value` turns back into an equal value.

    Raises ``InvalidMessageError`` naming ``path`` for a value of a type that cannot be carried. A naive
    datetime stays naive.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return _tagged("float", repr(value))
        return value
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and TAG not in value:
            return {key: encode_value(item, f"{path}[{key!r}]") for key, item in value.items()}
        return _tagged(
            "dict",
            [[encode_value(key, f"{path} key"), encode_value(item, f"{path}[{key!r}]")]
             for key, item in value.items()],
        )
    if isinstance(value, list):
        return [encode_value(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, tuple):
        return _tagged("tuple", [encode_value(item, f"{path}[{index}]") for index, item in enumerate(value)])
    if isinstance(value, set | frozenset):
        # Sorted by their JSON text so that equal sets always serialise to the same string.
        items = sorted((encode_value(item, f"{path} item") for item in value), key=lambda item: json.dumps(item))
        return _tagged("frozenset" if isinstance(value, frozenset) else "set", items)
    if isinstance(value, datetime.datetime):
        zone = getattr(value.tzinfo, "key", None)
        if isinstance(value.tzinfo, zoneinfo.ZoneInfo) and zone:
            # Keep the named zone, not just today's offset: arithmetic across DST depends on it. The wall
            # time, zone and fold are what identify the value (even inside a DST gap or overlap).
            return _tagged("datetime", [value.isoformat(), zone, value.fold])
        return _tagged("datetime", value.isoformat())
    if isinstance(value, datetime.date):
        return _tagged("date", value.isoformat())
    if isinstance(value, datetime.time):
        return _tagged("time", value.isoformat())
    if isinstance(value, datetime.timedelta):
        return _tagged("timedelta", [value.days, value.seconds, value.microseconds])
    if isinstance(value, uuid.UUID):
        return _tagged("uuid", str(value))
    if isinstance(value, decimal.Decimal):
        return _tagged("decimal", str(value))
    if isinstance(value, Promise):
        # Lazy translations are rendered now, in the active language (as edx-ace does).
        return str(value)
    if isinstance(value, MessageAttributeSerializationMixin):
        return _tagged(f"{type(value).__module__}:{type(value).__qualname__}", value.to_json())
    raise InvalidMessageError(
        f"{path} holds a {type(value).__name__}, which a message cannot carry; use str, int, float, bool, "
        "None, dict, list, tuple, set, datetime (aware), date, time, timedelta, UUID or Decimal."
    )


def _decode_tagged(tag, payload):
    if tag == "dict":
        return {decode_value(key): decode_value(item) for key, item in payload}
    if tag == "tuple":
        return tuple(decode_value(item) for item in payload)
    if tag == "set":
        return {decode_value(item) for item in payload}
    if tag == "frozenset":
        return frozenset(decode_value(item) for item in payload)
    if tag == "datetime":
        if isinstance(payload, list):
            moment, zone, fold = payload
            return datetime.datetime.fromisoformat(moment).replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=fold)
        return datetime.datetime.fromisoformat(payload)
    if tag == "date":
        return datetime.date.fromisoformat(payload)
    if tag == "time":
        return datetime.time.fromisoformat(payload)
    if tag == "timedelta":
        days, seconds, microseconds = payload
        return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if tag == "uuid":
        return uuid.UUID(payload)
    if tag == "decimal":
        return decimal.Decimal(payload)
    if tag == "float":
        return float(payload)
    cls = _SERIALIZABLE_TYPES.get(tag)
    if cls is None:
        raise InvalidMessageError(f"Cannot decode a value tagged {tag!r}: no such ACE type is known.")
    return cls.from_json(payload)


def decode_value(value):
    """The inverse of :func:`encode_value`."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if TAG in value and set(value) == {TAG, "v"}:
            return _decode_tagged(value[TAG], value["v"])
        return {key: decode_value(item) for key, item in value.items()}
    return value


def _plain_value(value, path):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime) and not isinstance(value.tzinfo, zoneinfo.ZoneInfo):
        return value.isoformat()  # naive stays naive, aware keeps its offset (as edx-ace writes them)
    if isinstance(value, MessageAttributeSerializationMixin):
        return value.to_json()
    return encode_value(value, path)


#: "module:qualname" -> class, for every class that mixes in MessageAttributeSerializationMixin.
_SERIALIZABLE_TYPES: dict[str, type] = {}


class MessageAttributeSerializationMixin:
    """Lets an attrs class be serialised to a JSON string (``str(obj)``) and back (``from_string``).

    Subclasses may override ``_to_json_fields`` / ``_from_json_fields`` to encode a field their own
    way; by default every attrs field goes through :func:`encode_value`.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _SERIALIZABLE_TYPES[f"{cls.__module__}:{cls.__qualname__}"] = cls

    def __str__(self):
        return json.dumps(self.to_json(), cls=MessageEncoder)

    #: Fields written in edx-ace's plain form (UUID as text, fixed-offset datetime as ISO text, a nested
    #: ACE object as its plain dict), so a worker still running edx-ace can read messages ACE queued
    #: during a rolling upgrade. Their attrs converters turn the plain form back into the value.
    _plain_json_fields: frozenset[str] = frozenset()

    def to_json(self) -> dict:
        """A dict of every serialisable field of this object, ready for ``json.dumps``."""
        encoded = {}
        for field in attr.fields(type(self)):
            value, path = getattr(self, field.name), f"{type(self).__name__}.{field.name}"
            if field.name in self._plain_json_fields:
                encoded[field.name] = _plain_value(value, path)
            else:
                encoded[field.name] = encode_value(value, path)
        return encoded

    @classmethod
    def from_json(cls, data: dict):
        """Build an instance from the dict ``to_json`` returned; ``InvalidMessageError`` when it cannot."""
        if not isinstance(data, dict):
            raise InvalidMessageError(f"Not a serialised {cls.__name__}: expected an object, got {data!r}.")
        try:
            return cls._from_json_fields(data)
        except InvalidMessageError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError, RecursionError) as exc:
            # A missing field, a malformed date or UUID, a Decimal or timedelta out of range...: name the class
            # and what was wrong. ArithmeticError covers OverflowError and decimal.InvalidOperation.
            raise InvalidMessageError(f"Not a valid serialised {cls.__name__}: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def _from_json_fields(cls, data: dict):
        fields = {field.name: field for field in attr.fields(cls)}
        init_values, late_values = {}, {}
        for name, raw in data.items():
            field = fields.get(name)
            if field is None:
                continue  # a field from another version: ignore, as edx-ace does
            (init_values if field.init else late_values)[name] = decode_value(raw)
        instance = cls(**init_values)
        for name, value in late_values.items():
            converter = fields[name].converter
            object.__setattr__(instance, name, converter(value) if converter else value)
        return instance

    @classmethod
    def from_string(cls, string_value: str):
        """Decode the JSON string ``str(obj)`` produced back into an equal object.

        Any malformed input (not JSON, too large, nested too deep, values out of range) raises
        ``InvalidMessageError`` and nothing else: a queued message from a broker is untrusted text.
        """
        if not isinstance(string_value, str | bytes | bytearray):
            raise InvalidMessageError(f"Not a serialised {cls.__name__}: expected a string, "
                                      f"got {type(string_value).__name__}.")
        if len(string_value) > MAX_SERIALIZED_CHARS:
            raise InvalidMessageError(f"Not a serialised {cls.__name__}: {len(string_value)} characters, more than "
                                      f"the {MAX_SERIALIZED_CHARS} a message may have.")
        try:
            data = json.loads(string_value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidMessageError(f"Not a serialised {cls.__name__}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidMessageError(f"Not a serialised {cls.__name__}: expected a JSON object.")
        _check_depth(data, cls.__name__)
        try:
            return cls.from_json(data)
        except InvalidMessageError:
            raise
        except Exception as exc:  # noqa: BLE001 — whatever a hostile document triggers, callers see one error type
            raise InvalidMessageError(f"Not a valid serialised {cls.__name__}: {type(exc).__name__}: {exc}") from exc


def nested_deeper_than(data, limit: int) -> bool:
    """Whether JSON-shaped ``data`` (dicts and lists) nests more than ``limit`` levels. Iterative, so a
    hostile document cannot exhaust the stack; used by every decoder of untrusted documents."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def _check_depth(data, name: str) -> None:
    """Refuse documents nested deeper than ``MAX_NESTING_DEPTH`` (decoding recurses once per level)."""
    if nested_deeper_than(data, MAX_NESTING_DEPTH):
        raise InvalidMessageError(f"Not a serialised {name}: nested more than {MAX_NESTING_DEPTH} levels deep.")
