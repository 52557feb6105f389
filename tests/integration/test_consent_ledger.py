"""The consent ledger on a real database: the projection follows the last event, the chain verifies,
and editing or removing any event is detected."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy.consent import ledger, service
from trustdesk.privacy.consent.policy import ConsentState, load_policy
from trustdesk.privacy.consent.schemas import Source
from trustdesk.privacy.models import ConsentEvent
from trustdesk.privacy.models import ConsentState as StateRow

POLICY = load_policy()
CUSTOMERS = ("a", "b")
PAIRS = [("marketing", "email"), ("marketing", "sms"), ("research", "phone")]

changes = st.lists(
    st.tuples(
        st.sampled_from(CUSTOMERS),
        st.sampled_from(PAIRS),
        st.sampled_from([ConsentState.GRANTED, ConsentState.WITHDRAWN]),
    ),
    min_size=1,
    max_size=25,
)
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Rollback(Exception):
    """Ends an example's transaction so the next example starts from an empty ledger."""


def add_customers(session, platform):
    records = [CustomerIn(external_id=c, jurisdiction="DE") for c in CUSTOMERS]
    customer_service.upsert_customers(session, platform.vault, records, actor="test")


def apply(session, sequence):
    for customer, (purpose, channel), state in sequence:
        service.set_consent(
            session,
            POLICY,
            external_id=customer,
            purpose=purpose,
            channel=channel,
            state=state,
            source=Source.API,
            actor="test",
        )


def in_rolled_back_transaction(platform, body):
    with pytest.raises(Rollback), platform.db.transaction() as session:
        body(session)
        raise Rollback


@PROPERTY
@given(sequence=changes)
def test_any_sequence_of_changes_leaves_the_last_event_per_preference_and_a_valid_chain(
    platform, sequence
):
    def body(session):
        add_customers(session, platform)
        apply(session, sequence)
        last = {}
        for event in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)):
            last[(event.customer_id, event.purpose, event.channel)] = (event.state, event.id)
        counts = {}
        for event in session.scalars(select(ConsentEvent)):
            key = (event.customer_id, event.purpose, event.channel)
            counts[key] = counts.get(key, 0) + 1
        projection = {
            (r.customer_id, r.purpose, r.channel): (r.state, r.event_id)
            for r in session.scalars(select(StateRow))
        }
        assert projection == last
        versions = {
            (r.customer_id, r.purpose, r.channel): r.version
            for r in session.scalars(select(StateRow))
        }
        assert versions == counts  # each change counted once: none lost, none doubled
        report = ledger.verify(session)
        assert report.ok, report
        assert report.checked == len(sequence)

    in_rolled_back_transaction(platform, body)


@PROPERTY
@given(sequence=changes, data=st.data())
def test_editing_any_event_is_detected_at_that_event(platform, sequence, data):
    def body(session):
        add_customers(session, platform)
        apply(session, sequence)
        target = data.draw(st.integers(1, len(sequence)), label="edited event")
        field = data.draw(st.sampled_from(["state", "purpose", "source", "notice_version"]))
        value = {"state": "flipped", "purpose": "other", "source": "forged", "notice_version": "0"}
        session.execute(
            update(ConsentEvent).where(ConsentEvent.id == target).values({field: value[field]})
        )
        report = ledger.verify(session)
        assert not report.ok
        assert report.broken_id == target
        assert report.reason == "its content was altered"

    in_rolled_back_transaction(platform, body)


@PROPERTY
@given(sequence=changes, data=st.data())
def test_removing_any_event_is_detected(platform, sequence, data):
    def body(session):
        add_customers(session, platform)
        apply(session, sequence)
        target = data.draw(st.integers(1, len(sequence)), label="removed event")
        session.execute(delete(ConsentEvent).where(ConsentEvent.id == target))
        report = ledger.verify(session)
        assert not report.ok
        if target < len(sequence):
            assert report.broken_id == target + 1
            assert report.reason == "an earlier event was removed"
        else:
            assert report.broken_id == target
            assert report.reason == "events at the end of the chain are missing"
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == len(sequence) - 1

    in_rolled_back_transaction(platform, body)


def test_a_rehashed_forgery_still_breaks_the_link_to_the_next_event(platform):
    """Recomputing the edited event's own hash does not help: the next event points at the old one."""

    def body(session):
        add_customers(session, platform)
        apply(session, [("a", ("marketing", "email"), ConsentState.GRANTED)] * 3)
        forged = session.get(ConsentEvent, 2)
        forged.state = "withdrawn"
        forged.hash = ledger.digest(forged)
        session.flush()
        report = ledger.verify(session)
        assert (report.ok, report.broken_id) == (False, 3)
        assert report.reason == "its link to the previous event does not match"

    in_rolled_back_transaction(platform, body)
