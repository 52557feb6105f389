"""Response pages under concurrency: submissions that arrive together are stored in one
transaction, each page answered with its own outcome after the commit; a link submitted several
times at once stores one response; a submission that fails does not sink the others and leaves
nothing half-stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from trustdesk.audit.chain import AuditEntry
from trustdesk.customers.models import Customer
from trustdesk.surveys import submissions
from trustdesk.surveys.distribution import public_link
from trustdesk.surveys.errors import AlreadyAnswered, InvalidAnswer, LinkExpired, LinkInvalid
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import SurveyInvitation, SurveyResponse
from trustdesk.surveys.service import create_survey
from trustdesk.surveys.submissions import Submission, submit_many


def _links(platform, n: int, *, public: bool = False) -> tuple[int, list[str], str | None]:
    """A trust-core survey sent to n new customers: (survey id, their link tokens in customer
    order c0..c{n-1}, the public link token when asked for)."""
    now = datetime.now(UTC)
    with platform.db.transaction() as session:
        subjects = platform.vault.new_subjects(n)
        session.execute(
            insert(Customer),
            [{"external_id": f"c{i}", "subject_id": subjects[i], "created_at": now,
              "updated_at": now} for i in range(n)],
        )  # fmt: skip
        ids = dict(session.execute(select(Customer.external_id, Customer.id)).all())
        survey = create_survey(
            session, platform.vault, template="trust-core", title="Wave", actor="test"
        )
        invitations = [
            SurveyInvitation(
                survey_id=survey.id,
                customer_id=ids[f"c{i}"],
                nonce=f"nonce-{i:04d}".ljust(22, "x"),
                created_at=now,
                expires_at=now + timedelta(days=14),
                sent_at=now,
                reminders=0,
            )
            for i in range(n)
        ]
        session.add_all(invitations)
        session.flush()
        token = None
        if public:
            token = public_link(session, survey.id, actor="test")
        links = SurveyLinks.of(platform.vault)
        return survey.id, [links.token(i.id, i.nonce) for i in invitations], token


def _stored(platform, survey_id: int) -> dict[str, dict[str, float]]:
    """{respondent key: its stored answers} of the survey."""
    with platform.db.reading() as session:
        rows = session.execute(
            select(SurveyResponse.respondent_key, SurveyResponse.answers).where(
                SurveyResponse.survey_id == survey_id
            )
        ).all()
    return {key: json.loads(answers) for key, answers in rows}


def test_concurrent_submissions_store_one_response_per_link_each_with_its_own_answers(
    client, app, platform
):
    survey, tokens, _ = _links(platform, 15)
    # Each link posted three times at once; customer i answers ability_1 = i % 7 + 1.
    posts = [(i, tokens[i]) for i in range(15)] * 3
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(
                lambda p: client.post(
                    f"/s/{p[1]}",
                    data={"action": "submit", "ability_1": str(p[0] % 7 + 1), "nps": "8"},
                ),
                posts,
            )
        )
    by_link: dict[int, list[int]] = {}
    for (i, _), answer in zip(posts, answers, strict=True):
        by_link.setdefault(i, []).append(answer.status_code)
        if answer.status_code == 200:
            assert "Thank you" in answer.text
        else:
            assert answer.status_code == 409 and "already answered" in answer.text
    assert all(sorted(codes) == [200, 409, 409] for codes in by_link.values()), by_link
    stored = _stored(platform, survey)
    assert stored == {f"c{i}": {"ability_1": float(i % 7 + 1), "nps": 8.0} for i in range(15)}
    with platform.db.reading() as session:
        used = session.execute(
            select(SurveyInvitation.responded_at, SurveyInvitation.response_id)
        ).all()
        assert all(at is not None and rid is not None for at, rid in used)
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "survey.response_submitted")
        )
    assert audited == 15
    writer = app.state.survey_submissions
    assert writer.items == 45  # every submission went through the group-commit writer …
    assert writer.transactions < 45  # … and some of them shared a transaction
    metrics = app.state.metrics.group_commit_items.labels("surveys.submit")._value.get()
    assert metrics == 45


def test_a_failing_submission_does_not_sink_the_others(client, platform, monkeypatch):
    survey, tokens, _ = _links(platform, 12)
    real = submissions.store_submissions

    def store(session, vault, survey_out, pages, **kw):
        if any(p.fields.get("why") == "explode" for p in pages):
            raise RuntimeError("the text analysis broke on this answer")
        return real(session, vault, survey_out, pages, **kw)

    monkeypatch.setattr(submissions, "store_submissions", store)
    posts = [
        (tokens[0], {"why": "explode", "nps": "5"}),  # fails unexpectedly: 500
        (tokens[1], {"ability_1": "9"}),  # off its scale: 422, the form again
        *((t, {"ability_1": "4", "why": "fine"}) for t in tokens[2:]),
    ]
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(lambda p: client.post(f"/s/{p[0]}", data={"action": "submit", **p[1]}), posts)
        )
    assert answers[0].status_code == 500
    assert answers[1].status_code == 422 and "1..7" in answers[1].text
    assert [a.status_code for a in answers[2:]] == [200] * 10
    assert set(_stored(platform, survey)) == {f"c{i}" for i in range(2, 12)}
    # Nothing of the two refused is kept: both links still work.
    monkeypatch.setattr(submissions, "store_submissions", real)
    for token in tokens[:2]:
        assert client.post(f"/s/{token}", data={"action": "submit", "nps": "6"}).status_code == 200
    assert set(_stored(platform, survey)) == {f"c{i}" for i in range(12)}


def test_a_batch_answers_each_submission_in_order_and_stores_only_the_good(platform):
    survey, tokens, public = _links(platform, 4, public=True)
    with platform.db.transaction() as session:
        row = session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()[2]
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    swap = "A" if tokens[3][-5] != "A" else "B"
    altered = tokens[3][:-5] + swap + tokens[3][-4:]  # a character of its signature changed
    batch = [
        Submission(tokens[0], {"ability_1": "6"}),
        Submission(tokens[0], {"ability_1": "2"}),  # the same link again, in the same batch
        Submission(tokens[1], {"ability_1": "8"}),  # off its scale
        Submission(tokens[2], {"ability_1": "3"}),  # expired
        Submission(altered, {"ability_1": "3"}),
        Submission(str(public), {"integrity_1": "5"}, public=True),
        Submission("no-such-survey", {"integrity_1": "5"}, public=True),
        Submission(tokens[3], {"ability_1": "1", "why": "quick"}),
    ]
    with platform.db.transaction() as session:
        outcomes = submit_many(session, platform.vault, batch)
    kinds = [type(o).__name__ if isinstance(o, Exception) else "stored" for o in outcomes]
    assert kinds == [
        "stored", AlreadyAnswered.__name__, InvalidAnswer.__name__, LinkExpired.__name__,
        LinkInvalid.__name__, "stored", LinkInvalid.__name__, "stored",
    ]  # fmt: skip
    stored = _stored(platform, survey)
    assert stored.pop("c0") == {"ability_1": 6.0} and stored.pop("c3") == {"ability_1": 1.0}
    assert list(stored.values()) == [{"integrity_1": 5.0}]  # the anonymous one
    assert next(iter(stored)).startswith("anon:")
    with platform.db.reading() as session:
        responded = dict(
            session.execute(select(SurveyInvitation.id, SurveyInvitation.responded_at)).all()
        )
    assert [at is not None for _, at in sorted(responded.items())] == [True, False, False, True]
