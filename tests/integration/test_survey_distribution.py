"""Distribution and response pages: invitations only to customers whose consent allows research
by email, emailed through the outbox outside quiet hours, one reminder; signed single-use links
whose pages need no login and no JavaScript, save and resume, refuse a second submission; the
anonymous public link; response rate and time to answer."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from trustdesk.outbox.public import status_counts
from trustdesk.surveys.distribution import deliver_due
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import SurveyInvitation


def _setup(cli, tmp_path, *extra: str) -> int:
    (tmp_path / "c.csv").write_text(
        "external_id,email,segment\n"
        "yes1,yes1@example.org,Panel\nyes2,yes2@example.org,Panel\nno1,no1@example.org,Panel\n"
    )
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    for who in ("yes1", "yes2"):
        done = cli(
            "consent", "set", "--customer", who, "--purpose", "research", "--channel", "email",
            "--state", "granted",
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    created = cli(
        "surveys", "create", "--template", "trust-core", "--title", "Panel", "--json", *extra
    )
    assert created.exit_code == 0, created.output
    return int(json.loads(created.stdout)["id"])


def _tokens(platform, survey_id: int) -> dict[int, str]:
    links = SurveyLinks.of(platform.vault)
    with platform.db.reading() as session:
        rows = session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id)
        ).all()
        return {r.customer_id: links.token(r.id, r.nonce) for r in rows}


def test_only_customers_who_allow_research_by_email_are_invited_and_emailed(
    cli, platform, tmp_path
):
    survey = _setup(cli, tmp_path, "--quiet-hours", "00:00-00:00")
    result = cli("surveys", "distribute", str(survey), "--segment", "Panel", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"invited": 2, "already": 0, "no_consent": 1}
    again = cli("surveys", "distribute", str(survey), "--segment", "Panel", "--json")
    assert json.loads(again.stdout) == {"invited": 0, "already": 2, "no_consent": 1}
    with platform.db.reading() as session:
        counts = status_counts(session, key_prefix=f"survey:{survey}:invitation:")
    assert counts.total == 2  # yes1 and yes2, never no1


def test_quiet_hours_hold_invitations_and_one_reminder_follows(cli, platform, tmp_path):
    survey = _setup(cli, tmp_path, "--quiet-hours", "21:00-08:00", "--reminder-after-h", "48")
    night = datetime(2030, 1, 7, 23, 0, tzinfo=UTC)
    with platform.db.transaction() as session:
        from trustdesk.surveys.distribution import invite

        invite(session, survey, segment="Panel", actor="test", now=night)
    with platform.db.transaction() as session:
        held = deliver_due(session, platform.vault, base_url="http://x", now=night)
    assert (held.sent, held.quiet) == (0, 2)
    morning = night + timedelta(hours=9, minutes=30)
    with platform.db.transaction() as session:
        run = deliver_due(session, platform.vault, base_url="http://x", now=morning)
    assert (run.sent, run.reminded) == (2, 0)
    with platform.db.transaction() as session:
        early = deliver_due(
            session, platform.vault, base_url="http://x", now=morning + timedelta(hours=47)
        )
        assert early.reminded == 0
        late = deliver_due(
            session, platform.vault, base_url="http://x", now=morning + timedelta(hours=49)
        )
        assert late.reminded == 2
        assert (
            deliver_due(
                session, platform.vault, base_url="http://x", now=morning + timedelta(hours=200)
            ).reminded
            == 0
        )
        counts = status_counts(session, key_prefix=f"survey:{survey}:reminder:")
    assert counts.total == 2


def _answers(**values: int) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def test_a_single_use_link_opens_saves_resumes_submits_once(cli, client, platform, tmp_path):
    survey = _setup(cli, tmp_path, "--quiet-hours", "00:00-00:00")
    assert cli("surveys", "distribute", str(survey), "--segment", "Panel").exit_code == 0
    token = next(iter(_tokens(platform, survey).values()))

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "<script" not in page.text and 'name="viewport"' in page.text
    assert 'type="radio" id="data_care_1-7" name="data_care_1"' in page.text
    assert '<label for="data_care_1-7">' in page.text and "<legend>" in page.text

    saved = client.post(
        f"/s/{token}", data={"action": "save", "ability_1": "6"}, follow_redirects=False
    )
    assert saved.status_code == 303
    resumed = client.get(saved.headers["location"])
    assert re.search(r'id="ability_1-6" name="ability_1" value="6" checked', resumed.text)
    assert "saved" in resumed.text

    off_scale = client.post(f"/s/{token}", data={"action": "submit", "ability_1": "9"})
    assert off_scale.status_code == 422 and "1..7" in off_scale.text
    gap = json.loads(cli("surveys", "gap", str(survey), "--json").stdout)
    assert gap[0]["n_customers"] == 0  # nothing half-stored

    answers = _answers(ability_1=6, data_care_1=2, data_care_2=3, nps=7) | {"why": "ok"}
    done = client.post(f"/s/{token}", data={"action": "submit", **answers})
    assert done.status_code == 200 and "Thank you" in done.text
    twice = client.post(f"/s/{token}", data={"action": "submit", **answers})
    assert twice.status_code == 409 and "already answered" in twice.text
    assert client.get(f"/s/{token}").status_code == 409
    payload, signature = token.split(".")
    altered = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature
    assert client.get(f"/s/{altered}").status_code == 404

    gap = {
        r["dimension"]: r for r in json.loads(cli("surveys", "gap", str(survey), "--json").stdout)
    }
    assert gap["data_care"]["n_customers"] == 1
    assert gap["data_care"]["customers"] == round(100 * (1 + 2) / 2 / 6, 2)
    stats = json.loads(cli("surveys", "stats", str(survey), "--json").stdout)
    assert stats["sent"] == 2 and stats["responded"] == 1 and stats["response_rate"] == 0.5
    assert stats["opened"] == 1 and stats["partial"] == 0
    assert stats["median_hours_to_answer"] is not None
    assert stats["by_channel"] == {"link": 1}


def test_an_expired_link_is_refused(cli, client, platform, tmp_path):
    survey = _setup(cli, tmp_path, "--quiet-hours", "00:00-00:00")
    assert cli("surveys", "distribute", str(survey), "--customer", "yes1").exit_code == 0
    with platform.db.transaction() as session:
        for row in session.scalars(select(SurveyInvitation)):
            row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    token = next(iter(_tokens(platform, survey).values()))
    page = client.get(f"/s/{token}")
    assert page.status_code == 410 and "expired" in page.text


def test_the_public_link_takes_anonymous_answers(cli, client, tmp_path):
    survey = _setup(cli, tmp_path)
    link = cli("surveys", "public-link", str(survey)).stdout.strip()
    path = "/s/open/" + link.rsplit("/", 1)[-1]
    assert client.get(path).status_code == 200
    assert "Save and continue later" not in client.get(path).text
    for value in (2, 4):
        posted = client.post(path, data={"action": "submit", "integrity_1": str(value)})
        assert posted.status_code == 200
    gap = {
        r["dimension"]: r for r in json.loads(cli("surveys", "gap", str(survey), "--json").stdout)
    }
    assert gap["integrity"]["n_customers"] == 2
    assert client.get("/s/open/not-a-token").status_code == 404


def test_an_answer_off_its_scale_before_a_later_page_shows_the_same_page_with_the_reason(
    cli, client, platform, tmp_path
):
    survey = _setup(cli, tmp_path, "--quiet-hours", "00:00-00:00")
    made = cli(
        "surveys", "add-question", str(survey), "--id", "fix", "--kind", "text",
        "--text", "What should we fix first?", "--show-if", "nps=0,1,2,3,4,5,6", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert cli("surveys", "distribute", str(survey), "--customer", "yes1").exit_code == 0
    token = next(iter(_tokens(platform, survey).values()))
    link = cli("surveys", "public-link", str(survey)).stdout.strip()
    for path in (f"/s/{token}", "/s/open/" + link.rsplit("/", 1)[-1]):
        off = client.post(path, data={"action": "next", "page": "0", "nps": "3", "ability_1": "9"})
        assert off.status_code == 422 and "1..7" in off.text, path
        assert "What should we fix first?" not in off.text and 'value="next"' in off.text
        assert re.search(r'name="nps" value="3" checked', off.text)
        on = client.post(path, data={"action": "next", "page": "0", "nps": "3", "ability_1": "6"})
        assert on.status_code == 200 and "What should we fix first?" in on.text, path
    gap = json.loads(cli("surveys", "gap", str(survey), "--json").stdout)
    assert all(g["n_customers"] == 0 for g in gap)  # nothing sent yet, nothing stored
