"""Message and MessageType: defaults, personalisation, logging adapter."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from ace.errors import InvalidMessageError
from ace.message import Message, MessageLoggingAdapter, MessageType
from ace.recipient import Recipient


class Welcome(MessageType):
    pass


class Named(MessageType):
    APP_LABEL = "my_app"
    NAME = "test_message"


class PurchaseOrderComplete(MessageType):
    """The documentation's transactional example: options set in __init__."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.options["transactional"] = True
        self.options["from_address"] = "shop@example.org"


def test_message_type_defaults_come_from_app_and_class_name():
    msg_type = Welcome()
    assert (msg_type.app_label, msg_type.name) == ("tests", "welcome")


def test_message_type_app_label_and_name_class_attributes():
    msg_type = Named()
    assert (msg_type.app_label, msg_type.name) == ("my_app", "test_message")
    assert (MessageType.APP_LABEL, MessageType.NAME) == (None, None)


def test_explicit_app_label_and_name_win():
    msg_type = Named(app_label="other", name="other_name")
    assert (msg_type.app_label, msg_type.name) == ("other", "other_name")


def test_personalize_merges_context_user_values_win():
    msg_type = Welcome(context={"site": "Example", "first_name": "nobody"}, options={"x": 1})
    recipient = Recipient(5, "bo@example.com")
    message = msg_type.personalize(recipient, "fr", {"first_name": "Bo"})
    assert isinstance(message, Message)
    assert message.context == {"site": "Example", "first_name": "Bo"}
    assert (message.app_label, message.name, message.language) == ("tests", "welcome", "fr")
    assert message.recipient == recipient
    assert message.send_uuid == msg_type.uuid
    assert message.uuid != msg_type.uuid
    assert msg_type.context == {"site": "Example", "first_name": "nobody"}  # the type's context is untouched


def test_personalize_copies_options_not_shares():
    msg_type = Welcome(options={"nested": {"a": 1}})
    first = msg_type.personalize(Recipient(1, "a@example.com"), "en", {})
    second = msg_type.personalize(Recipient(2, "b@example.com"), "en", {})
    first.options["transactional"] = True
    first.options["nested"]["a"] = 2
    assert second.options == {"nested": {"a": 1}}
    assert msg_type.options == {"nested": {"a": 1}}


def test_personalize_accepts_context_keyword_as_in_documentation_example():
    msg_type = Named(context={"generic_stuff": "for all"})
    message = msg_type.personalize(recipient=Recipient(1, "a@example.com"), language="en",
                                   context={"stuff": "personal"})
    assert message.context == {"generic_stuff": "for all", "stuff": "personal"}


def test_personalize_each_message_gets_its_own_context():
    msg_type = Welcome(context={"items": [1]})
    first = msg_type.personalize(Recipient(1, "a@example.com"), "en", {})
    first.context["extra"] = True
    assert "extra" not in msg_type.context


def test_transactional_options_set_in_init():
    message = PurchaseOrderComplete().personalize(Recipient(1, "a@example.com"), "en", {})
    assert message.options == {"transactional": True, "from_address": "shop@example.org"}
    assert message.transactional


@pytest.mark.parametrize("kwargs", [{"app_label": None}, {"name": None}, {"name": 3}])
def test_message_without_a_string_app_label_or_name_is_refused(kwargs):
    values = {"app_label": "tests", "name": "greeting", "recipient": Recipient(1, "a@example.com"), **kwargs}
    with pytest.raises(InvalidMessageError, match="must be a string"):
        Message(**values)


def test_blank_app_label_and_name_are_accepted_as_in_edx_ace():
    message = Message(app_label="", name="  ", recipient=Recipient(1, "a@example.com"))
    assert Message.from_string(str(message)) == message


def test_message_requires_app_label_and_name_positionally():
    with pytest.raises(TypeError):
        Message(recipient=Recipient(1, "a@example.com"))


def test_unique_name_and_log_id():
    message = Message(app_label="tests", name="greeting", recipient=Recipient(1))
    assert message.unique_name == "tests.greeting"
    assert message.log_id == f"tests.greeting.no_send_uuid.{message.uuid}"  # edx-ace's format
    batch = Message(app_label="tests", name="greeting", recipient=Recipient(1), send_uuid=message.uuid)
    assert batch.log_id == f"tests.greeting.{message.uuid}.{batch.uuid}"


def test_naive_expiration_time_is_accepted_and_taken_as_utc():
    naive = datetime(2030, 1, 1)
    message = Message(app_label="a", name="b", recipient=None, expiration_time=naive)
    assert message.expiration_time == naive
    assert Welcome(expiration_time=naive).expiration_time == naive
    assert Message.from_string(str(message)).expiration_time == naive  # naive stays naive, as in edx-ace
    from ace.delivery import expiration_for

    start = datetime(2029, 12, 31, 23, 59, tzinfo=UTC)
    assert expiration_for(message, start) == datetime(2030, 1, 1, tzinfo=UTC)  # compared as UTC
    with pytest.raises(InvalidMessageError, match="must be a datetime"):
        message.expiration_time = "tomorrow"


def test_message_headers_and_mutable_recipient_as_in_edx_ace():
    message = Message(app_label="a", name="b", recipient=Recipient(1, "a@example.com"), headers={"X-Tag": "t"})
    assert Message.from_string(str(message)).headers == {"X-Tag": "t"}
    message.recipient.email_address = "b@example.com"
    assert message.recipient == Recipient(1, "b@example.com")


def test_message_type_subclass_equals_its_deserialized_form():
    welcome = Welcome(context={"a": 1})
    assert MessageType.from_string(str(welcome)) == welcome


def test_recipient_email_alias_and_equality():
    assert Recipient(lms_user_id="123456", email="a@example.com") == Recipient("123456", "a@example.com")
    assert Recipient(1, email_address="a@example.com").email == "a@example.com"
    with pytest.raises(InvalidMessageError):
        Recipient(1, email_address="a@example.com", email="b@example.com")


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def quiet_logger():
    logger = logging.getLogger("tests.ace.quiet")
    handler = _ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)


def test_logging_adapter_prefixes_log_id(quiet_logger):
    logger, handler = quiet_logger
    message = Message(app_label="tests", name="greeting", recipient=None)
    adapter = message.get_message_specific_logger(logger)
    assert isinstance(adapter, MessageLoggingAdapter)
    adapter.warning("hello %s", "world")
    adapter.debug("hidden")
    assert handler.lines == [(logging.WARNING, f"[{message.log_id}] hello world")]


def test_logging_adapter_honours_per_message_log_level(quiet_logger):
    logger, handler = quiet_logger
    message = Message(app_label="tests", name="greeting", recipient=None, log_level=logging.DEBUG)
    adapter = message.get_message_specific_logger(logger)
    adapter.debug("traced %d", 1)
    adapter.info("traced %d", 2)
    assert handler.lines == [(logging.DEBUG, f"[{message.log_id}] traced 1"),
                             (logging.INFO, f"[{message.log_id}] traced 2")]
    other = Message(app_label="tests", name="greeting", recipient=None).get_message_specific_logger(logger)
    other.debug("not traced")
    assert len(handler.lines) == 2


def test_expiration_in_the_future_kept():
    later = datetime.now(UTC) + timedelta(days=1)
    assert Message(app_label="a", name="b", recipient=None, expiration_time=later).expiration_time == later


def test_logging_adapter_reports_the_callers_location(caplog):
    message = Message(app_label="tests", name="greeting", recipient=None, log_level=logging.DEBUG)
    adapter = message.get_message_specific_logger(logging.getLogger("tests.ace.located"))

    def where_it_happened():
        adapter.info("here")
        adapter.debug("and here")
        adapter.warning("and there")

    caplog.set_level(logging.DEBUG)  # the handler takes everything; the logger itself only warnings
    logging.getLogger("tests.ace.located").setLevel(logging.WARNING)
    try:
        where_it_happened()
    finally:
        logging.getLogger("tests.ace.located").setLevel(logging.NOTSET)
    assert [(r.funcName, r.getMessage()) for r in caplog.records] == [
        ("where_it_happened", f"[{message.log_id}] here"), ("where_it_happened", f"[{message.log_id}] and here"),
        ("where_it_happened", f"[{message.log_id}] and there")]
