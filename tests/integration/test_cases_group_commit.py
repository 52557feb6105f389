"""Single-case intake under concurrency: requests that arrive together are written in one
transaction, each still answered with its own case after the commit; duplicates posted at the
same moment open one case; a case that fails does not sink the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from trustdesk.audit.chain import AuditEntry
from trustdesk.cases import group_commit
from trustdesk.cases.models import Case, CaseCount


def _post(api, external_id: str, body: str = "my card was stolen", **extra):
    payload = {"external_id": external_id, "subject": "Complaint", "body": body, **extra}
    return api.post("/api/v1/cases", json=payload)


def test_concurrent_posts_are_written_together_and_duplicates_open_one_case(api, app, platform):
    ids = [f"C-{i % 20}" for i in range(60)]  # each external id posted three times at once
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda x: _post(api, x), ids))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    by_id: dict[str, set[int]] = {}
    created: dict[str, int] = {}
    for external_id, answer in zip(ids, answers, strict=True):
        by_id.setdefault(external_id, set()).add(answer.json()["id"])
        created[external_id] = created.get(external_id, 0) + (answer.status_code == 201)
    assert all(len(found) == 1 for found in by_id.values())  # one case per external id
    assert set(created.values()) == {1}  # exactly one 201 each; the repeats got 200
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 20
        opened = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.opened")
        )
        assert opened == 20
        assert session.scalar(select(func.sum(CaseCount.n))) == 20
    writer = app.state.case_intake
    assert writer.cases == 60  # every request went through the group-commit writer …
    assert writer.transactions < 60  # … and some of them shared a transaction


def test_a_failing_case_does_not_sink_the_others(api, app, platform, monkeypatch):
    from trustdesk.cases.routing import keyword_classifier

    def classify(text: str) -> tuple[str, float]:
        if "explode" in text:
            raise RuntimeError("the model broke on this text")
        return keyword_classifier(text)

    monkeypatch.setattr(group_commit, "classifier_for", lambda settings: classify)
    posts = [("F-bad", "please explode"), *((f"F-{i}", "refund the charge") for i in range(11))]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda p: _post(api, p[0], p[1]), posts))
    assert answers[0].status_code == 500
    assert [a.status_code for a in answers[1:]] == [201] * 11
    assert _post(api, "F-x", customer="nobody").status_code == 404  # refusals keep their status
    assert _post(api, "F-y", **{"at": "2026-01-05T10:00:00"}).status_code == 422
    with platform.db.reading() as session:
        stored = set(session.scalars(select(Case.external_id)))
    assert stored == {f"F-{i}" for i in range(11)}
