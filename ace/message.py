"""``Message`` and ``MessageType``: what ACE delivers, and the factory that personalises it per recipient."""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from uuid import UUID, uuid4

import attr
from django.apps import apps

from ace import monitoring
from ace.errors import InvalidMessageError
from ace.recipient import Recipient
from ace.serialization import MessageAttributeSerializationMixin
from ace.utils.date import deserialize


def _required_name(instance, attribute, value):
    # As lenient as edx-ace (which checks nothing): any string, blank included; names the templates.
    if not isinstance(value, str):
        raise InvalidMessageError(
            f"{type(instance).__name__}.{attribute.name} must be a string: it names the templates "
            f"({{app_label}}/edx_ace/{{name}}/...); got {value!r}."
        )


def _datetime(instance, attribute, value):
    # A naive datetime is accepted, as edx-ace does, and taken as UTC wherever it is compared.
    if value is not None and not isinstance(value, datetime):
        raise InvalidMessageError(f"{type(instance).__name__}.{attribute.name} must be a datetime, not {value!r}.")


def _dict(instance, attribute, value):
    if not isinstance(value, dict):
        raise InvalidMessageError(
            f"{type(instance).__name__}.{attribute.name} must be a dict, not {type(value).__name__}."
        )


def _optional_str(instance, attribute, value):
    if value is not None and not isinstance(value, str):
        raise InvalidMessageError(f"{type(instance).__name__}.{attribute.name} must be a string or None.")


def _to_datetime(value):
    if not isinstance(value, str):
        return value
    try:
        return deserialize(value)
    except (ValueError, OverflowError):
        raise InvalidMessageError(f"expiration_time must be a datetime, not {value!r}.")


def _to_uuid(value):
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidMessageError(f"Not a UUID: {value!r}.")


def _to_recipient(value):
    if isinstance(value, dict):
        return Recipient.from_json(value)
    return value


def _recipient(instance, attribute, value):
    if value is not None and not isinstance(value, Recipient):
        raise InvalidMessageError(f"Message.recipient must be a Recipient, not {type(value).__name__}.")


_VALIDATE_ON_SET = attr.setters.pipe(attr.setters.convert, attr.setters.validate)


class _MessageDefaults(MessageAttributeSerializationMixin):
    """What ``MessageType`` and ``Message`` share: their empty ``context`` and ``options`` (edx-ace's
    ``default_*_value`` methods, which a subclass may override) and the fields serialised as plain JSON."""

    _plain_json_fields = frozenset({"uuid", "send_uuid", "expiration_time", "recipient"})

    def default_context_value(self):
        return {}

    def default_options_value(self):
        return {}


def _default(method: str):
    """An attrs default that calls the instance's ``method`` (so a subclass's override is used)."""
    return attr.Factory(lambda self: getattr(self, method)(), takes_self=True)


@attr.s(on_setattr=_VALIDATE_ON_SET, eq=False)
class MessageType(_MessageDefaults):
    """A type of message, used once per batch send and personalised into a ``Message`` per recipient.

    :param context: context given to every message of the batch.
    :param expiration_time: when these messages expire (a naive datetime is taken as UTC).
    :param app_label: the Django app whose templates render it; defaults to ``APP_LABEL`` or to the
        app the class is defined in.
    :param name: the message name in template paths; defaults to ``NAME`` or the class name, lowercased.
    """

    NAME = None
    APP_LABEL = None

    context = attr.ib(default=_default("default_context_value"), validator=_dict)
    expiration_time = attr.ib(default=None, converter=_to_datetime, validator=_datetime)
    app_label = attr.ib(validator=_required_name)
    name = attr.ib(validator=_required_name)
    options = attr.ib(default=_default("default_options_value"), validator=_dict)
    log_level = attr.ib(default=None)
    uuid = attr.ib(init=False, converter=_to_uuid)


    @app_label.default
    def default_app_label(self):
        """Get default app label: ``APP_LABEL``, else the label of the app defining the class."""
        if self.APP_LABEL is not None:
            return self.APP_LABEL
        module = type(self).__module__
        config = apps.get_containing_app_config(module) if apps.apps_ready else None
        return config.label if config is not None else module.split(".")[0]

    @name.default
    def default_name(self):
        """Return default name: ``NAME``, else the class name in lower case."""
        return type(self).__name__.lower() if self.NAME is None else self.NAME


    @uuid.default
    def generate_uuid(self):
        return uuid4()

    # A subclass compares equal to the plain MessageType it deserializes to (as in edx-ace): fields only.
    def __eq__(self, other):
        if isinstance(other, MessageType):
            return attr.astuple(self, recurse=False) == attr.astuple(other, recurse=False)
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash((self.uuid, self.app_label, self.name))

    def personalize(self, recipient, language, user_context=None, *, context=None) -> Message:
        """A new ``Message`` of this type for ``recipient``, with ``user_context`` merged over the type's
        context. The message gets its own copy of the options, so changing one message's options never
        changes another's. ``context=`` is accepted for ``user_context`` because the documentation's own
        example passes it that way."""
        if context is not None:
            if user_context is not None:
                raise TypeError("personalize() got both user_context and context; pass one.")
            user_context = context
        if user_context is not None and not isinstance(user_context, dict):
            raise InvalidMessageError(f"user_context must be a dict, not {type(user_context).__name__}.")
        merged = dict(self.context)
        merged.update(user_context or {})
        return Message(
            app_label=self.app_label,
            name=self.name,
            expiration_time=self.expiration_time,
            context=merged,
            recipient=recipient,
            send_uuid=self.uuid,
            language=language,
            options=copy.deepcopy(self.options),
            log_level=self.log_level,
        )


@attr.s(on_setattr=_VALIDATE_ON_SET)
class Message(_MessageDefaults):
    """The core piece of data passed into ACE: the message, its recipient, and the context to render it.

    :param app_label: the Django app sending it; names its templates. Required.
    :param name: the name of this type of message; names its templates. Required.
    :param recipient: the intended ``Recipient``.
    :param expiration_time: after this time the message is not delivered (a naive datetime is taken as UTC).
    :param context: given to the templates at render time.
    :param send_uuid: the UUID of the bulk send this message belongs to.
    :param options: delivery options (``transactional``, ``from_address``, ``reply_to``,
        ``override_frequency_capping``, ...).
    :param language: the language to render in.
    :param log_level: a logging level that this message's log lines are emitted at or above,
        whatever the logger's own level.
    """

    app_label = attr.ib(validator=_required_name)
    name = attr.ib(validator=_required_name)
    recipient = attr.ib(converter=_to_recipient, validator=_recipient)
    expiration_time = attr.ib(default=None, converter=_to_datetime, validator=_datetime)
    context = attr.ib(default=_default("default_context_value"), validator=_dict)
    send_uuid = attr.ib(default=None, converter=_to_uuid)
    options = attr.ib(default=_default("default_options_value"), validator=_dict)
    #: Extra email headers (as in edx-ace, where only the django_email channel uses them).
    headers = attr.ib(validator=_dict)
    language = attr.ib(default=None, validator=_optional_str)
    log_level = attr.ib(default=None)
    uuid = attr.ib(init=False, converter=_to_uuid)



    @headers.default
    def default_headers_value(self):
        return {}

    @uuid.default
    def generate_uuid(self):
        return uuid4()

    @property
    def unique_name(self) -> str:
        """A unique name for this message type, used for logging and reporting: ``app_label.name``."""
        return f"{self.app_label}.{self.name}"

    @property
    def log_id(self) -> str:
        """The identity of this message for logging: ``app_label.name.send_uuid.uuid`` (as in edx-ace)."""
        return f"{self.unique_name}.{self.send_uuid or 'no_send_uuid'}.{self.uuid}"

    @property
    def transactional(self) -> bool:
        return bool(self.options.get("transactional"))

    def get_message_specific_logger(self, logger: logging.Logger) -> MessageLoggingAdapter:
        """A ``MessageLoggingAdapter`` that prefixes ``logger``'s lines with this message's ``log_id``."""
        return MessageLoggingAdapter(logger, {"message": self})

    def report(self, key, value) -> None:
        monitoring.report(key, value)

    def report_basics(self) -> None:
        """Report the identity of this message to the monitoring service."""
        self.report("message_name", self.unique_name)
        self.report("language", self.language)
        self.report("message_uuid", str(self.uuid))
        self.report("message_send_uuid", str(self.send_uuid) if self.send_uuid else None)


class MessageLoggingAdapter(logging.LoggerAdapter):
    """Prefixes log lines with the ``log_id`` of the message in ``extra['message']``.

    When the message has a ``log_level``, lines at or above it are emitted even if the logger's own
    level would drop them, so a single message can be traced in detail.
    """

    def process(self, msg, kwargs):
        message = self.extra["message"]
        return f"[{message.log_id}] {msg}", kwargs

    def isEnabledFor(self, level):
        forced = self.extra["message"].log_level
        if forced is not None and level >= forced:
            return True
        return self.logger.isEnabledFor(level)

    def log(self, level, msg, *args, **kwargs):
        if not self.isEnabledFor(level):
            return
        msg, kwargs = self.process(msg, kwargs)
        # Count this frame too, so the record names the code that logged (stacklevel=1 is that caller).
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        if self.logger.isEnabledFor(level):
            self.logger.log(level, msg, *args, **kwargs)
        else:
            # Bypass the logger's level (not its handlers' levels): this message asked for it.
            self.logger._log(level, msg, args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        """Delegate a debug call to the underlying logger."""
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # this frame is not logging's own
        self.log(logging.DEBUG, msg, *args, **kwargs)
