"""A customer answers a survey on a phone with JavaScript off: the invitation link opens an
accessible form, answers are saved and resumed, submitted once, and a second use is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import insert
from tests.e2e.test_shell_chromium import assert_accessible_page

from trustdesk.customers.models import Customer
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import SurveyInvitation
from trustdesk.surveys.service import create_survey


def _invitation(platform) -> str:
    now = datetime.now(UTC)
    with platform.db.transaction() as session:
        session.execute(
            insert(Customer),
            [{"external_id": "c1", "subject_id": platform.vault.new_subjects(1)[0],
              "created_at": now, "updated_at": now}],
        )  # fmt: skip
        customer_id = session.query(Customer.id).scalar()
        survey = create_survey(
            session, platform.vault, template="trust-core", title="How are we doing?",
            actor="test", company="Acme",
        )  # fmt: skip
        invitation = SurveyInvitation(
            survey_id=survey.id, customer_id=customer_id, nonce="n" * 22, created_at=now,
            expires_at=now + timedelta(days=14), sent_at=now, reminders=0,
        )  # fmt: skip
        session.add(invitation)
        session.flush()
        return SurveyLinks.of(platform.vault).token(invitation.id, invitation.nonce)


def test_a_customer_answers_on_a_phone_without_javascript(new_page, live_server, platform):
    token = _invitation(platform)
    page = new_page(live_server, java_script_enabled=False, viewport={"width": 375, "height": 740})
    page.goto(f"/s/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("How are we doing?")
    assert_accessible_page(page)
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    group = page.get_by_role("group", name="1. Acme is very capable of doing what it does.")
    group.get_by_label("6 Agree").check()
    page.get_by_role("button", name="Save and continue later").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    page.goto(f"/s/{token}")
    expect(group.get_by_label("6 Agree")).to_be_checked()

    page.get_by_role(
        "group", name="10. Acme is trustworthy in handling my personal information."
    ).get_by_label("2 Disagree", exact=True).check()
    page.get_by_label("15. What is the main reason for your answers?").fill("Slow refunds")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    page.goto(f"/s/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("You have already answered")
