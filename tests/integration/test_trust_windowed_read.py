"""`trust.public.observations_between`: a signal's observations of a time window, read from the
database by the signals that can (feedback, cases, fraud, surveys: the source rows outside the
window are not read) and by filtering the whole read for the others, with the same rows either
way, boundaries included (start inclusive, end exclusive)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, insert, select
from tests.integration.test_fraud_trust_signal import _label
from tests.integration.test_trust import _import, _tweets

from trustdesk.cases.models import Case, CaseEvent
from trustdesk.customers.models import Customer
from trustdesk.customers.public import customer_ids
from trustdesk.surveys.models import SurveyResponse
from trustdesk.surveys.service import create_survey
from trustdesk.trust.public import (
    Observations,
    WindowedSignal,
    observations_between,
    registered_signals,
)

CUSTOMERS = "external_id,name,email,segment\n" + "".join(
    f"c{i},Person {i},p{i}@example.com,{'north' if i % 2 else 'south'}\n" for i in range(1, 7)
)


def _columns(parts: list[Observations]) -> dict[str, list[object]]:
    names = ("ref", "at", "customer_id", "segment", "value", "weight", "dims", "negative")
    return {n: [x for p in parts for x in getattr(p, n).tolist()] for n in names}


def _filtered(platform, signal, start: int, end: int) -> dict[str, list[object]]:
    with platform.db.reading() as session:
        whole = list(signal.read(session, after_ref=0, batch_size=7))
    return _columns([p.take((p.at >= start) & (p.at < end)) for p in whole])


@pytest.fixture
def evidence(cli, api, platform, tmp_path) -> None:
    """Rows for every windowed signal, spread over time."""
    people = tmp_path / "customers.csv"
    people.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(people)).exit_code == 0
    _import(cli, _tweets(tmp_path, "t.csv", slice(0, 60), {i: f"c{1 + i % 6}" for i in range(60)}))
    for i in range(3):  # declined, then found genuine on different days
        payment = {
            "transaction_id": f"fd-{i}", "at": "2015-02-24T12:00:00Z", "customer_id": f"c{i + 1}",
            "terminal_id": "t1", "amount": "80.00", "country": "KP",
        }  # fmt: skip
        assert api.post("/api/v1/transactions/score", json=payment).json()["decision"] == "decline"
        _label(api, f"fd-{i}", "genuine", f"2015-02-2{5 + i}T09:00:00Z")
    for i in range(4):
        opened = api.post(
            "/api/v1/cases",
            json={
                "external_id": f"K{i}",
                "subject": "Fee",
                "body": "a fee",
                "customer": f"c{i + 1}",
            },
        )
        assert opened.status_code == 201, opened.text
        done = api.post(f"/api/v1/cases/{opened.json()['id']}/status", json={"status": "resolved"})
        assert done.status_code == 200, done.text
    base = datetime(2026, 2, 1, 12, tzinfo=UTC)
    with platform.db.transaction() as session:
        events = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
        for i, event in enumerate(events):  # spread out in time (all written this second)
            event.at = base + timedelta(hours=7 * i, seconds=i)
        survey = create_survey(
            session, platform.vault, template="trust-core", title="Pulse", actor="test"
        ).id
        ids = customer_ids(session, [f"c{i}" for i in range(1, 7)])
        for i in range(12):
            session.add(
                SurveyResponse(
                    survey_id=survey, respondent="customer", respondent_key=f"r{i}",
                    customer_id=ids[f"c{1 + i % 6}"], answers=json.dumps({}), channel="import",
                    submitted_at=base + timedelta(days=3 * i, seconds=i), ability=40.0 + i,
                    integrity=None, benevolence=55.0, data_care=70.0 - i, overall=50.0,
                )
            )  # fmt: skip


def test_each_windowed_signal_reads_what_its_whole_read_keeps_of_the_window(platform, evidence):
    windowed = [s for s in registered_signals() if isinstance(s, WindowedSignal)]
    assert {s.name for s in windowed} >= {"feedback", "cases", "fraud", "surveys"}
    for signal in windowed:
        everything = _filtered(platform, signal, 0, 2**62)
        times = sorted(set(everything["at"]))
        assert len(times) >= 3, signal.name  # evidence at several times to cut through
        middle, last = times[len(times) // 2], times[-1]
        for start, end in ((times[0], last + 1), (middle, last), (times[0], middle), (0, 1)):
            with platform.db.reading() as session:
                found = _columns(
                    list(observations_between(session, signal, start=start, end=end, batch_size=5))
                )
            assert found == _filtered(platform, signal, start, end), (signal.name, start, end)
        with platform.db.reading() as session:
            inside = list(observations_between(session, signal, start=middle, end=last))
        assert 0 < sum(map(len, inside)) < len(everything["at"])


class Plain:
    """A signal without a windowed read: read whole, filtered by `observations_between`."""

    name = "plain"

    def read(self, session, *, after_ref: int, batch_size: int):
        for first in (1, 4):
            ref = np.arange(first, first + 3, dtype=np.int64)
            yield Observations(
                signal=self.name, ref=ref, at=ref * 100, customer_id=ref,
                segment=np.full(3, "", dtype=object), value=np.full(3, 50.0),
                weight=np.ones(3), dims=np.zeros(3, dtype=np.int32),
                topics=np.zeros(3, dtype=np.int32), negative=np.zeros(3, dtype=bool),
                last_ref=int(ref[-1]),
            )  # fmt: skip


def test_a_signal_without_a_windowed_read_is_filtered():
    assert not isinstance(Plain(), WindowedSignal)
    found = list(observations_between(None, Plain(), start=200, end=500))  # type: ignore[arg-type]
    assert [p.ref.tolist() for p in found] == [[2, 3], [4]]


def _many_rows_over_a_year(platform, rows: int) -> datetime:
    """`rows` case events and survey responses evenly over 2025, most of known customers."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    every = timedelta(days=365) / rows
    with platform.db.transaction() as session:
        survey = create_survey(
            session, platform.vault, template="trust-core", title="Pulse", actor="test"
        ).id
        session.execute(
            insert(Customer),
            [
                {"id": i, "external_id": f"c{i}", "subject_id": f"s{i}", "created_at": base,
                 "updated_at": base}
                for i in range(1, 201)
            ],
        )  # fmt: skip
        session.execute(
            insert(Case),
            [
                {"id": i, "channel": "api", "external_id": f"k{i}", "key_subject": "s",
                 "body_length": 1, "category": "c", "probability": 1.0, "queue": "q",
                 "priority": "p", "status": "open", "opened_at": base, "updated_at": base,
                 "customer_id": i if i % 10 else None}
                for i in range(1, 201)
            ],
        )  # fmt: skip
        session.execute(
            insert(CaseEvent),
            [
                {"case_id": 1 + i % 200, "at": base + i * every, "actor": "a",
                 "kind": ("note", "csat")[i % 2], "detail": '{"score": 4}'}
                for i in range(rows)
            ],
        )  # fmt: skip
        session.execute(
            insert(SurveyResponse),
            [
                {"survey_id": survey, "respondent": "customer", "respondent_key": f"r{i}",
                 "customer_id": 1 + i % 200, "answers": "{}", "channel": "import",
                 "submitted_at": base + i * every, "ability": 60.0}
                for i in range(rows)
            ],
        )  # fmt: skip
    return base


@pytest.mark.parametrize(
    ("name", "table", "index"),
    [
        ("cases", "case_events", "ix_case_events_at"),
        ("surveys", "survey_responses", "ix_survey_responses_submitted_at"),
    ],
)
def test_a_windowed_read_takes_the_window_from_the_time_index(
    platform, backend, name, table, index
):
    """A week of a year of rows is read through the time column's index, not a walk of the
    table: on PostgreSQL with the statistics its autovacuum gathers, on SQLite without any."""
    base = _many_rows_over_a_year(platform, 20_000)
    if backend == "postgresql":
        with platform.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    signal = next(s for s in registered_signals() if s.name == name)
    start = int((base + timedelta(days=100)).timestamp())
    statements: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    engine = platform.db.read_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with platform.db.reading() as session:
            found = list(observations_between(session, signal, start=start, end=start + 7 * 86400))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert 0 < sum(map(len, found)) < 1_000
    statement, parameters = next(
        (q, p) for q, p in statements if q.startswith("SELECT") and f"FROM {table}" in q
    )  # the signal's read of its source rows
    explain = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + statement, parameters))
    assert index in plan, plan
