"""The survey builder: own questions (Likert 5/7, 0-10, single/multiple choice, free text) next
to the bank's items, simple branching (checked on import, page by page on the response pages),
versions once sent (answers keep the version they answered), through CLI, API and staff pages."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.integration.test_pages import csrf_from, log_in, make_user
from tests.integration.test_surveys import _create, _customers

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.surveys.models import SurveyResponse


def _add(cli, survey: int, *args: str):
    return cli("surveys", "add-question", str(survey), *args, "--json")


def _build(cli) -> int:
    survey = _create(cli)["id"]
    made = _add(
        cli, survey, "--id", "channel", "--kind", "single", "--text", "How did you reach us?",
        "--option", "Phone", "--option", "Email", "--option", "Chat",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    made = _add(
        cli, survey, "--id", "features", "--kind", "multi", "--text", "What do you use?",
        "--option", "App", "--option", "Web", "--option", "Branch",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    made = _add(
        cli, survey, "--id", "phone_wait", "--kind", "likert5",
        "--text", "The wait on the phone was acceptable.", "--show-if", "channel=1",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return survey


def test_own_questions_sit_next_to_the_bank_items_with_their_kinds(cli):
    survey = _build(cli)
    shown = json.loads(cli("surveys", "show", str(survey), "--json").stdout)
    assert shown["version"] == 1  # not sent yet: edited in place
    items = {i["id"]: i for i in shown["items"]}
    assert items["channel"] | {"text": ""} == items["channel"] | {
        "kind": "single", "min": 1, "max": 3, "dimension": None, "text": "",
    }  # fmt: skip
    assert items["channel"]["labels"] == ["Phone", "Email", "Chat"]
    assert items["features"]["kind"] == "multi" and items["features"]["min"] is None
    assert (items["phone_wait"]["min"], items["phone_wait"]["max"]) == (1, 5)
    assert items["phone_wait"]["show_if"] == {"item": "channel", "in": [1]}
    assert "not a validated item" in items["phone_wait"]["source"]
    # The contract's create output is unchanged.
    assert set(_create(cli)["items"][0]) == {"id", "dimension", "min", "max"}


def test_bad_questions_are_refused_with_a_reason(cli):
    survey = _create(cli)["id"]
    cases = [
        (("--id", "q1", "--kind", "stars", "--text", "T"), "kind 'stars'"),
        (("--id", "q1", "--kind", "single", "--text", "T", "--option", "A"), "2 to 20 options"),
        (("--id", "nps", "--kind", "text", "--text", "T"), "already has a question 'nps'"),
        (("--id", "q1", "--kind", "text", "--text", "T", "--show-if", "why=1"), "open question"),
        (("--id", "q1", "--kind", "text", "--text", "T", "--show-if", "nps=11"), "0..10"),
        (("--id", "Q 1", "--kind", "text", "--text", "T"), "lower-case letter"),
    ]
    for args, reason in cases:
        result = _add(cli, survey, *args)
        assert result.exit_code == 2 and reason in result.output, (args, result.output)
    assert len(json.loads(cli("surveys", "show", str(survey), "--json").stdout)["items"]) == 15


def test_imports_check_choices_and_branching_and_keep_the_version_answered(cli, platform, tmp_path):
    _customers(cli, tmp_path)
    survey = _build(cli)
    path = tmp_path / "answers.csv"
    path.write_text(
        "external_id,nps,channel,features,phone_wait\n"
        "lo0,9,1,1;3,4\n"  # phone: the wait question is asked
        "lo1,7,2,2,\n"  # email: not asked, not answered
        "lo2,5,2,,3\n"  # email, yet answers the phone question
        "lo3,5,4,,\n"  # no option 4
        "lo4,5,1,2;5,\n"  # no option 5
    )
    result = cli("surveys", "responses", "import", str(survey), str(path), "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["created"] == 2
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert "phone_wait is asked only when channel is one of 1" in reasons[3]
    assert "outside the item's scale 1..3" in reasons[4]
    assert "options are 1..3" in reasons[5]
    again = json.loads(
        cli("surveys", "responses", "import", str(survey), str(path), "--json").stdout
    )
    assert again["unchanged"] == 2 and again["created"] == 0  # idempotent, choices included

    # Sent now: an edit makes version 2, the answers keep version 1.
    removed = cli("surveys", "remove-question", str(survey), "features", "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout)["version"] == 2
    assert cli("surveys", "remove-question", str(survey), "channel").exit_code == 2  # branched on
    later = tmp_path / "later.csv"
    later.write_text("external_id,nps,channel\nhi0,10,3\n")
    assert cli("surveys", "responses", "import", str(survey), str(later)).exit_code == 0
    features = tmp_path / "features.csv"
    features.write_text("external_id,features\nhi1,1\n")
    refused = cli("surveys", "responses", "import", str(survey), str(features))
    assert refused.exit_code == 2 and "'features' is not an item" in refused.output
    with platform.db.reading() as session:
        versions = dict(
            session.execute(
                select(SurveyResponse.respondent_key, SurveyResponse.version).where(
                    SurveyResponse.survey_id == survey
                )
            ).all()
        )
        stored = session.scalar(
            select(SurveyResponse.answers).where(SurveyResponse.respondent_key == "lo0")
        )
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_id == str(survey))
            ).all()
        )
    assert versions == {"lo0": 1, "lo1": 1, "hi0": 2}
    assert json.loads(stored)["features"] == [1, 3]
    assert {"survey.question_added", "survey.question_removed"} <= actions
    old = json.loads(cli("surveys", "show", str(survey), "--json").stdout)
    assert "features" not in {i["id"] for i in old["items"]}


def test_the_api_adds_and_removes_questions(api, client, platform, token_for):
    made = api.post("/api/v1/surveys", json={"title": "API wave"})
    survey = made.json()["id"]
    added = api.post(
        f"/api/v1/surveys/{survey}/questions",
        json={"id": "promoter_why", "kind": "text", "text": "What would make it a 10?",
              "show_if_item": "nps", "show_if_in": [7, 8]},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    item = added.json()["items"][-1]
    assert item["show_if"] == {"item": "nps", "in": [7, 8]} and item["kind"] == "text"
    bad = api.post(
        f"/api/v1/surveys/{survey}/questions", json={"id": "x", "kind": "multi", "text": "T"}
    )
    assert bad.status_code == 422 and "options" in bad.json()["detail"]
    removed = api.delete(f"/api/v1/surveys/{survey}/questions/promoter_why")
    assert removed.status_code == 200
    assert "promoter_why" not in {i["id"] for i in removed.json()["items"]}
    assert api.delete(f"/api/v1/surveys/{survey}/questions/nope").status_code == 422
    client.headers["Authorization"] = f"Bearer {token_for(Role.VIEWER)}"
    denied = client.post(
        f"/api/v1/surveys/{survey}/questions", json={"id": "y", "kind": "text", "text": "T"}
    )
    assert denied.status_code == 403


def test_the_response_page_asks_a_branched_question_on_a_later_page(cli, client, tmp_path):
    survey = _create(cli)["id"]
    made = _add(
        cli, survey, "--id", "fix", "--kind", "text", "--text", "What should we fix first?",
        "--show-if", "nps=0,1,2,3,4,5,6",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    link = cli("surveys", "public-link", str(survey)).stdout.strip()
    path = "/s/open/" + link.rsplit("/", 1)[-1]
    first = client.get(path)
    assert first.status_code == 200
    assert "What should we fix first?" not in first.text and 'value="next"' in first.text

    # A detractor gets the follow-up on the next page, earlier answers carried along.
    second = client.post(path, data={"action": "next", "page": "0", "nps": "3", "ability_1": "2"})
    assert second.status_code == 200
    assert "What should we fix first?" in second.text and 'value="submit"' in second.text
    assert 'name="nps" value="3"' in second.text
    done = client.post(
        path, data={"action": "submit", "page": "1", "nps": "3", "ability_1": "2",
                    "fix": "Refunds"},
    )  # fmt: skip
    assert done.status_code == 200 and "Thank you" in done.text

    # A promoter is not asked: "Continue" sends the answers.
    promoter = client.post(path, data={"action": "next", "page": "0", "nps": "10"})
    assert promoter.status_code == 200 and "Thank you" in promoter.text
    # A hand-made post answering the follow-up without its condition stores nothing.
    forged = client.post(path, data={"action": "submit", "nps": "9", "fix": "x"})
    assert forged.status_code == 422 and "asked only when nps" in forged.text
    results = json.loads(cli("surveys", "results", str(survey), "--json").stdout)
    assert results["overall"]["nps"]["n"] == 2


def test_an_analyst_adds_a_question_on_the_survey_page(cli, client, platform):
    survey = _create(cli)["id"]
    make_user(platform, "ann", Role.ANALYST)
    log_in(client, platform, "ann")
    page = client.get(f"/surveys/{survey}")
    assert "Add your own question" in page.text
    posted = client.post(
        f"/surveys/{survey}/questions",
        data={"id": "visit", "kind": "single", "text": "Where did you visit us?",
              "options": "Branch\nOnline\n", "show_if": "", "csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )  # fmt: skip
    assert posted.status_code == 200
    assert "Question visit added (version 1)." in posted.text
    assert "one of: Branch; Online" in posted.text


def test_customers_open_answers_become_feedback_items_once(cli, tmp_path):
    _customers(cli, tmp_path)
    survey = _create(cli)["id"]
    path = tmp_path / "why.csv"
    path.write_text(
        "external_id,respondent,nps,why\n"
        "lo0,,2,The refund took six weeks and nobody answered my emails.\n"
        "lo1,,10,Friendly staff and quick answers.\n"
        ",leader,9,They love us.\n"  # a leader's prediction is not feedback
    )
    for _ in range(2):  # the second import changes nothing, in feedback either
        assert cli("surveys", "responses", "import", str(survey), str(path)).exit_code == 0
    listed = cli("feedback", "list", "--source", "survey", "--json")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    items = items["items"] if isinstance(items, dict) else items
    by_text = {i["text"]: i for i in items}
    assert set(by_text) == {
        "The refund took six weeks and nobody answered my emails.",
        "Friendly staff and quick answers.",
    }
    refund = by_text["The refund took six weeks and nobody answered my emails."]
    assert refund["sentiment"] == "negative" and refund["external_id"].startswith(
        f"survey:{survey}:lo0:"
    )
    assert by_text["Friendly staff and quick answers."]["sentiment"] == "positive"
