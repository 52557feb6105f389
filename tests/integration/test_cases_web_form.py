"""The public complaint form through the real app, as a visitor without a login: it opens a
case from an unknown sender and asks them to confirm their address by a signed link; forged,
too-fast, repeated and honeypot posts and floods are handled without losing or duplicating."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from trustdesk.cases import web_form
from trustdesk.cases.models import Case, CaseEvent
from trustdesk.outbox.public import message_statuses

FIELDS = {
    "name": "Grace Hopper",
    "email": "grace@example.org",
    "subject": "Charged twice",
    "body": "You charged my card twice for the same order.",
}


def _token(client) -> str:
    page = client.get("/complaint")
    assert page.status_code == 200
    found = re.search(r'name="form" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _cases(platform) -> list[Case]:
    with platform.db.reading() as session:
        return list(session.scalars(select(Case)))


@pytest.fixture
def no_wait(monkeypatch):
    monkeypatch.setattr(web_form, "MIN_FILL_S", 0)


def test_the_form_is_public_accessible_and_needs_no_javascript(client):
    page = client.get("/complaint")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<script" not in page.text
    for field in ("name", "email", "subject", "body"):
        assert f'<label for="{field}"' in page.text and f'id="{field}"' in page.text
    assert 'lang="en"' in page.text and "<h1>" in page.text
    assert "set-cookie" not in page.headers  # no session needed to complain


def test_a_complaint_opens_a_case_once_and_asks_to_confirm_the_address(client, platform, no_wait):
    token = _token(client)
    sent = client.post("/complaint", data={**FIELDS, "form": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/complaint/sent"
    again = client.post("/complaint", data={**FIELDS, "form": token}, follow_redirects=False)
    assert again.status_code == 303  # a double click: still one case
    (case,) = _cases(platform)
    assert case.channel == "web" and case.contact_id is not None and case.customer_id is None
    assert b"twice" not in (case.body_enc or b"")
    with platform.db.reading() as session:
        statuses = message_statuses(session, [f"case:{case.id}:web-confirmation"])
    assert list(statuses.values()) == ["pending"]

    link = web_form.signer_for(platform.vault).confirm_token(case.id)
    for _ in range(2):
        confirmed = client.get(f"/complaint/confirm/{link}")
        assert confirmed.status_code == 200 and f"case #{case.id}" in confirmed.text
    assert client.get(f"/complaint/confirm/{link[:-2]}xx").status_code == 403
    with platform.db.reading() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("web_confirmed") == 1


def test_bots_are_turned_away_without_storing_anything(client, platform):
    too_fast = client.post("/complaint", data={**FIELDS, "form": _token(client)})
    assert too_fast.status_code == 422 and "too fast" in too_fast.text
    assert 'value="Grace Hopper"' in too_fast.text  # what the person wrote is kept
    forged = client.post("/complaint", data={**FIELDS, "form": "made-up"})
    assert forged.status_code == 403
    web_form.MIN_FILL_S, saved = 0, web_form.MIN_FILL_S
    try:
        trap = client.post(
            "/complaint",
            data={**FIELDS, "form": _token(client), "website": "http://spam.example"},
            follow_redirects=False,
        )
    finally:
        web_form.MIN_FILL_S = saved
    assert trap.status_code == 303  # thanked, so the bot learns nothing
    assert _cases(platform) == []


def test_bad_input_is_named_and_a_flood_is_limited(client, platform, no_wait):
    bad = client.post(
        "/complaint", data={**FIELDS, "email": "not-an-address", "form": _token(client)}
    )
    assert bad.status_code == 422 and "email" in bad.text
    answers = [
        client.post(
            "/complaint",
            data={**FIELDS, "form": _token(client)},
            follow_redirects=False,
        ).status_code
        for _ in range(5)
    ]
    assert answers == [303, 303, 303, 303, 429]  # 5 per 10 minutes per client, the bad one too
    assert len(_cases(platform)) == 4
