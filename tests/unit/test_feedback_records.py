"""Feedback records: rating scales normalise to 0..1, and each bad input gets a clear reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trustdesk.feedback.ratings import SCALES, normalise_rating
from trustdesk.feedback.schemas import parse_record, parse_time
from trustdesk.feedback.topics import TOPIC_DIMENSIONS, TOPICS, mask_of, topics_of

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        ("1", "stars5", 0.0),
        ("5", "stars5", 1.0),
        ("3.5", "stars5", 0.625),
        (0, "nps", 0.0),
        ("10", "nps", 1.0),
        ("7", "nps", 0.7),
        ("4", "csat5", 0.75),
        ("3", "likert5", 0.5),
        ("4", "likert7", 0.5),
    ],
)
def test_ratings_map_worst_to_0_and_best_to_1(value, scale, expected):
    normalised, raw = normalise_rating(value, scale)
    assert normalised == pytest.approx(expected)
    assert raw == float(value)


@pytest.mark.parametrize(
    ("value", "scale", "words"),
    [
        ("6", "stars5", "out of range"),
        ("0", "stars5", "out of range"),
        ("11", "nps", "out of range"),
        ("-1", "nps", "out of range"),
        ("7.5", "nps", "step"),
        ("8", "likert7", "out of range"),
        ("great", "stars5", "not a number"),
        ("nan", "csat5", "out of range"),
    ],
)
def test_bad_ratings_say_why(value, scale, words):
    with pytest.raises(ValueError, match=words):
        normalise_rating(value, scale)


def test_blank_rating_is_absent_and_every_scale_has_a_description():
    assert normalise_rating("", "nps") is None
    assert normalise_rating(None, "stars5") is None
    assert all(s.description for s in SCALES.values())


def test_times_in_the_tweet_format_and_iso_are_utc():
    assert parse_time("2015-02-24 11:35:52 -0800") == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)
    assert parse_time("2024-03-01T10:00:00Z") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parse_time("2024-03-01 10:00") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parse_time("0").year == 1970


def _record(**changes):
    fields = {"external_id": "r1", "text": "Refund never came", "at": "2024-12-01T00:00:00Z"}
    fields.update(changes)
    return parse_record(fields, source="survey", now=NOW)


def test_a_good_record_gets_defaults_for_channel_and_language():
    record = _record(rating="9", rating_scale="nps", segment="retail")
    assert (record.source, record.channel, record.language) == ("survey", "survey", "en")
    assert record.rating == pytest.approx(0.9) and record.rating_raw == 9


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"text": "   "}, "text is empty"),
        ({"text": "x" * 1_000_000}, "text is too long"),
        ({"language": "xx"}, "not an ISO 639-1 code"),
        ({"rating": "6"}, "out of range"),
        ({"at": "2025-06-01T00:00:00Z"}, "in the future"),
        ({"at": "yesterday"}, "not an ISO 8601"),
        ({"external_id": ""}, "external id is missing"),
        ({"channel": "pigeon"}, "channel must be"),
        ({"text": "bad \udcff byte"}, "not valid UTF-8"),
    ],
)
def test_each_bad_record_has_a_reason(changes, words):
    with pytest.raises(ValueError, match=words):
        _record(**changes)


def test_topic_masks_round_trip_and_every_topic_has_a_dimension():
    assert topics_of(mask_of(["billing_honesty", "privacy_security"])) == (
        "billing_honesty",
        "privacy_security",
    )
    assert set(TOPIC_DIMENSIONS) == set(TOPICS)
    assert set(TOPIC_DIMENSIONS.values()) == {"ability", "integrity", "benevolence", "data_care"}
