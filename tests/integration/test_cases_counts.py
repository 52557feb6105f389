"""The inbox's queue counts come from `case_counts`, kept in the same transaction as every case
write: after any mix of intake, batches, imports, status changes, assignment, replies, merges,
SLA passes and rolled-back transactions, the table equals a COUNT(*) of the cases."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from trustdesk.cases import service
from trustdesk.cases.counts import count_rows, rebuild_counts
from trustdesk.cases.errors import InvalidTransition
from trustdesk.cases.intake import open_case, open_cases, open_many
from trustdesk.cases.models import Case
from trustdesk.cases.routing import keyword_classifier
from trustdesk.cases.schemas import CaseIn
from trustdesk.cases.sla import evaluate_sla_in
from trustdesk.db import utcnow

TEXTS = ("my card was stolen", "refund the double charge", "transfer never arrived", "rude staff")


def _truth(session) -> dict[tuple[str, str, str], int]:
    rows = session.execute(
        select(Case.queue, Case.status, Case.sla_state, func.count()).group_by(
            Case.queue, Case.status, Case.sla_state
        )
    )
    return {(q, s, st): n for q, s, st, n in rows}


def _case(n: int) -> CaseIn:
    return CaseIn(channel="api", external_id=f"h-{n}", subject="Complaint", body=TEXTS[n % 4])


class Rollback(Exception):
    pass


op = st.one_of(
    st.tuples(st.just("open"), st.integers(0, 30)),
    st.tuples(st.just("batch"), st.lists(st.integers(0, 30), min_size=1, max_size=6)),
    st.tuples(st.just("import"), st.lists(st.integers(0, 30), min_size=1, max_size=4)),
    st.tuples(st.just("status"), st.integers(0, 40), st.integers(0, 6)),
    st.tuples(st.just("assign"), st.integers(0, 40)),
    st.tuples(st.just("reply"), st.integers(0, 40)),
    st.tuples(st.just("merge"), st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.just("sla"), st.integers(0, 24 * 20)),
    st.tuples(st.just("rollback"), st.integers(0, 40), st.integers(0, 6)),
)


def _apply(platform, step) -> None:
    vault, kind = platform.vault, step[0]
    with platform.db.transaction() as session:
        ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        pick = (lambda k: ids[k % len(ids)]) if ids else None
        try:
            if kind == "open":
                open_case(session, vault, _case(step[1]), classify=keyword_classifier, actor="t")
            elif kind == "batch":
                cases = [_case(n) for n in step[1]]
                open_many(session, vault, cases, classify=keyword_classifier, actor="t")
            elif kind == "import":
                rows = [(i, _case(n).model_dump(exclude_none=True)) for i, n in enumerate(step[1])]
                list(open_cases(session, vault, rows, classify=keyword_classifier, actor="t"))
            elif pick is None:
                return
            elif kind in ("status", "rollback"):
                case_id = pick(step[1])
                status = ("open", "waiting_on_customer", "waiting_on_third_party", "resolved",
                          "closed", "reopened", "new")[step[2]]  # fmt: skip
                with session.begin_nested():
                    service.change_status(session, case_id, status, actor="t")
                    if kind == "rollback":
                        session.flush()
                        raise Rollback
            elif kind == "assign":
                service.assign(session, pick(step[1]), team="t", assignee="sam", actor="t")
            elif kind == "reply":
                with session.begin_nested():
                    service.reply(session, vault, pick(step[1]), "We are on it.", actor="t")
            elif kind == "merge":
                with session.begin_nested():
                    service.merge_cases(session, pick(step[1]), pick(step[2]), actor="t")
            elif kind == "sla":
                evaluate_sla_in(session, now=utcnow() + timedelta(hours=step[1]))
        except (InvalidTransition, Rollback):
            pass
        except Exception as exc:  # a refused merge into itself: InvalidCase
            if type(exc).__name__ != "InvalidCase":
                raise


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(op, min_size=1, max_size=12))
def test_counts_equal_a_count_of_the_cases_after_any_mix_of_writes(platform, steps):
    for step in steps:
        _apply(platform, step)
        with platform.db.reading() as session:
            assert count_rows(session) == _truth(session), step


def test_the_inbox_counts_come_from_the_table_and_recount_repairs_it(platform):
    with platform.db.transaction() as session:
        for n in range(5):
            open_case(session, platform.vault, _case(n), classify=keyword_classifier, actor="t")
    with platform.db.reading() as session:
        counts = service.queue_counts(session)
        assert sum(q["active"] for q in counts.values()) == 5
    with platform.db.transaction() as session:  # a bulk write that bypassed the ORM
        session.execute(Case.__table__.update().values(status="closed"))
    with platform.db.reading() as session:
        assert count_rows(session) != _truth(session)
    with platform.db.transaction() as session:
        assert rebuild_counts(session) == 5
    with platform.db.reading() as session:
        assert count_rows(session) == _truth(session)
        assert service.queue_counts(session) == {}


def test_cases_recount_command(platform, cli):
    with platform.db.transaction() as session:
        open_case(session, platform.vault, _case(1), classify=keyword_classifier, actor="t")
        session.execute(Case.__table__.update().values(queue="elsewhere"))
    result = cli("cases", "recount")
    assert result.exit_code == 0, result.output
    assert "1 case(s) counted" in result.output
    with platform.db.reading() as session:
        assert count_rows(session) == {("elsewhere", "new", "ok"): 1}
