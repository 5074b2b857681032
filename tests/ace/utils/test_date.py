"""ace.utils.date: aware UTC now, ISO 8601 both ways."""

from datetime import UTC, datetime, timedelta, timezone

from ace.utils.date import as_utc, deserialize, get_current_time, serialize


def test_current_time_is_aware_utc():
    now = get_current_time()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_serialize_round_trip_keeps_offset():
    moment = datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-5)))
    text = serialize(moment)
    assert text == "2030-01-02T03:04:05.000006-05:00"
    assert deserialize(text) == moment
    assert deserialize(text).utcoffset() == timedelta(hours=-5)


def test_none_stays_none():
    assert serialize(None) is None and deserialize(None) is None


def test_string_without_offset_stays_naive_as_in_edx_ace():
    assert deserialize("2030-01-02T03:04:05") == datetime(2030, 1, 2, 3, 4, 5)
    assert as_utc(deserialize("2030-01-02T03:04:05")) == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert deserialize("2030-01-02T03:04:05Z") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
