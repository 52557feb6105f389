"""What callers send and receive about feedback. One validation path for files, API and CLI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.bounds import utc_instant
from trustdesk.feedback.ratings import DEFAULT_SCALE, normalise_rating

__all__ = [
    "CHANNELS",
    "MAX_TEXT_CHARS",
    "FeedbackIn",
    "FeedbackOut",
    "FeedbackRecord",
    "ImportReport",
    "RowError",
    "parse_record",
    "parse_time",
]

MAX_TEXT_CHARS = 20_000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between the sender and us
CHANNELS = frozenset({"survey", "review", "ticket", "chat", "email", "social", "other"})
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/#+-]{0,127}$")
_SURROGATE = re.compile("[\ud800-\udfff]")  # what undecodable bytes turn into
_SEGMENT = re.compile(r"^[\w .&/'-]{1,64}$")
# ISO 639-1: the languages a record may declare (region subtags such as en-GB are accepted).
_ISO_639_1 = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
    "vi vo wa wo xh yi yo za zh zu"
)
_LANGUAGES = frozenset(_ISO_639_1.split())


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One validated feedback record, ready to store."""

    source: str
    external_id: str
    at: datetime
    text: str
    channel: str
    language: str
    segment: str | None = None
    customer: str | None = None  # the customer's external id
    rating: float | None = None
    rating_raw: float | None = None
    rating_scale: str | None = None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_time(value: Any) -> datetime:
    """ISO 8601 (with or without zone; none means UTC), `2015-02-24 11:35:52 -0800`, or epoch s."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _from_epoch(float(value), repr(value))
    else:
        text = _clean(value)
        if text is None:
            raise ValueError("time is missing")
        try:
            parsed = datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-"))
        except ValueError:
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(f"time {text[:40]!r} is not an ISO 8601 date-time") from None
            parsed = _from_epoch(seconds, repr(text[:40]))
    return utc_instant(parsed)


def _from_epoch(seconds: float, shown: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):  # inf, nan, or beyond year 9999
        raise ValueError(f"time {shown} is out of range (1900 to 9998)") from None


def parse_record(
    fields: Mapping[str, Any],
    *,
    source: str | None = None,
    rating_scale: str = DEFAULT_SCALE,
    now: datetime,
) -> FeedbackRecord:
    """Validate one record with canonical keys (external_id, at, text, rating, customer, …).

    Raises ValueError whose message is the per-row reason shown to the user.
    """
    src = (_clean(fields.get("source")) or source or "").lower()
    if not _SOURCE.match(src):
        raise ValueError("source must be 1-64 lowercase letters, digits or _ . -")
    external_id = _clean(fields.get("external_id"))
    if external_id is None:
        raise ValueError("external id is missing")
    if not _EXTERNAL_ID.match(external_id):
        raise ValueError("external id must be 1-128 letters, digits or _ . : @ / # + -")
    raw_text = fields.get("text")
    text = raw_text.strip() if isinstance(raw_text, str) else ""
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS:,})")
    if _SURROGATE.search(text):
        raise ValueError("text is not valid UTF-8")
    at = parse_time(fields.get("at"))
    if at > now + FUTURE_TOLERANCE:
        raise ValueError(f"time {at:%Y-%m-%dT%H:%M:%SZ} is in the future")
    language = (_clean(fields.get("language")) or "en").lower().replace("_", "-")
    if language.split("-")[0] not in _LANGUAGES:
        raise ValueError(f"language {language[:16]!r} is not an ISO 639-1 code such as 'en'")
    channel = (_clean(fields.get("channel")) or (src if src in CHANNELS else "other")).lower()
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(sorted(CHANNELS))}")
    segment = _clean(fields.get("segment"))
    if segment is not None and not _SEGMENT.match(segment):
        raise ValueError("segment must be 1-64 letters, digits, spaces or . & / ' -")
    customer = _clean(fields.get("customer"))
    scale = _clean(fields.get("rating_scale")) or rating_scale
    rating = normalise_rating(fields.get("rating"), scale)
    return FeedbackRecord(
        source=src,
        external_id=external_id,
        at=at,
        text=text,
        channel=channel,
        language=language[:8],
        segment=segment,
        customer=customer,
        rating=rating[0] if rating else None,
        rating_raw=rating[1] if rating else None,
        rating_scale=scale if rating else None,
    )


class FeedbackIn(BaseModel):
    """One feedback record sent to the API. Checked by the same rules as file imports."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Where it came from, e.g. 'nps-survey', 'zendesk', 'social'.")
    external_id: str = Field(description="The source's id; (source, external_id) is unique.")
    at: datetime | str | float = Field(description="When the customer said it (ISO 8601, UTC).")
    text: str = Field(description="What the customer wrote (stored encrypted).")
    rating: float | str | None = Field(None, description="Optional rating on `rating_scale`.")
    rating_scale: str | None = Field(None, description="stars5, nps, csat5, likert5, likert7.")
    customer: str | None = Field(None, description="The customer's external id, if known.")
    segment: str | None = None
    channel: str | None = Field(None, description="survey, review, ticket, chat, email, social.")
    language: str | None = Field(None, description="ISO 639-1 code; default 'en'.")


class FeedbackOut(BaseModel):
    id: int
    source: str
    external_id: str
    at: datetime
    received_at: datetime
    channel: str | None
    language: str
    segment: str | None
    customer_id: int | None
    rating: float | None = Field(description="Normalised to 0 (worst) .. 1 (best).")
    rating_raw: float | None
    rating_scale: str | None
    text: str | None = Field(description="None when the text's data key was destroyed.")
    text_state: str = Field(description="'shown' or 'erased'.")
    text_length: int
    sentiment: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    topics: list[str]
    model_version: str | None


class RowError(BaseModel):
    row: int
    external_id: str | None = None
    reason: str


class ImportReport(BaseModel):
    created: int = 0
    unchanged: int = Field(0, description="Already stored under the same (source, external id).")
    repeated: int = Field(
        0,
        description="Rows repeating an earlier row of the same input (same source and external "
        "id): the first one counts, the repeats are skipped.",
    )
    rejected: list[RowError] = Field(default_factory=list)
    rejects_file: str | None = None
    analysed: int = Field(0, description="Rows analysed and indexed after storing (bulk imports).")
    store_seconds: float = 0.0
    analyse_seconds: float = 0.0

    @property
    def stored(self) -> int:
        return self.created + self.unchanged + self.repeated
