"""Bulk intake through the API: many cases in one request, each routed and idempotent as a
single POST, bad ones named by index and skipped, the good ones kept."""

from __future__ import annotations

from sqlalchemy import func, select

from trustdesk.cases.models import Case


def test_a_batch_opens_good_cases_names_bad_ones_and_is_idempotent(api, platform):
    cases = [
        {"external_id": "B-1", "subject": "Card stolen", "body": "my card was stolen"},
        {"external_id": "B-2", "subject": "", "body": "no subject"},
        {"external_id": "B-3", "subject": "Refund", "body": "refund me", "customer": "nobody"},
        {"external_id": "B-4", "subject": "Fees", "body": "a fee", "email": "x@example.org"},
        {"external_id": "B-1", "subject": "Card stolen", "body": "the same complaint again"},
    ]
    first = api.post("/api/v1/cases/batch", json={"cases": cases})
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["unchanged"], report["rejected"]) == (2, 1, 2)
    errors = {r["index"]: r["error"] for r in report["results"] if r["error"]}
    assert set(errors) == {1, 2}
    assert errors[1].startswith("subject") and "nobody" in errors[2]
    opened = next(r["case"] for r in report["results"] if r["index"] == 0)
    assert opened["queue"] and opened["first_response_due"] and opened["category"]
    repeat = report["results"][4]["case"]  # twice in one batch: opened once
    assert repeat["id"] == opened["id"] and repeat["created"] is False
    with platform.db.reading() as session:
        contact = session.scalar(select(Case.contact_id).where(Case.external_id == "B-4"))
    assert contact is not None  # an unknown sender became a contact

    again = api.post("/api/v1/cases/batch", json={"cases": cases}).json()
    assert (again["created"], again["unchanged"], again["rejected"]) == (0, 3, 2)
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2
    assert api.post("/api/v1/cases/batch", json={"cases": []}).status_code == 422
    too_many = [{"external_id": f"x{i}", "subject": "s", "body": "b"} for i in range(501)]
    assert api.post("/api/v1/cases/batch", json={"cases": too_many}).status_code == 422
