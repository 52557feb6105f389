"""Staff correct a feedback item's sentiment or topics on its page; the correction is audited,
shown, and becomes training data for `trustdesk model train --include-corrections`."""

from __future__ import annotations

import csv
import json
import re

from tests.integration.test_dashboard_pages import csrf_from, log_in, main_text, tweets  # noqa: F401

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.errors import InvalidInput
from trustdesk.feedback import browsing, corrections
from trustdesk.feedback import service as feedback_service
from trustdesk.feedback.training import merge_examples


def first_item(platform, **filters):
    with platform.db.reading() as session:
        page = browsing.browse(
            session, platform.vault, feedback_service.FeedbackFilter(**filters), limit=1
        )
    return page.items[0]


def send_correction(client, item_id, data):
    form = client.get(f"/feedback/{item_id}")
    assert f'action="/feedback/{item_id}/correct"' in form.text
    data = {**data, "csrf_token": csrf_from(form.text)}
    return client.post(f"/feedback/{item_id}/correct", data=data, follow_redirects=False)


def test_a_correction_is_saved_shown_listed_and_audited(client, platform, tweets):  # noqa: F811
    log_in(client, platform, Role.ANALYST)
    item = first_item(platform, sentiment="positive")
    saved = send_correction(
        client,
        item.id,
        {"sentiment": "negative", "topics": ["billing_honesty"], "change_topics": "yes"},
    )
    assert saved.status_code == 303
    page = main_text(client.get(f"/feedback/{item.id}").text)
    assert "Correct the analysis" in page
    correction = page[page.index('id="correction"') :]
    assert "negative" in correction.split("</dd>")[0]
    assert "billing" in correction.split("</dd>")[0].lower()
    listing = client.get("/feedback", params={"sentiment": "positive"}).text
    assert "Corrected by staff: negative" in listing
    with platform.db.reading() as session:
        entry = session.query(AuditEntry).filter_by(action="feedback.corrected").one()
    changes = json.loads(entry.diff)
    assert changes["sentiment"] == "negative" and changes["topics"] == ["billing_honesty"]
    assert changes["model"]["sentiment"] == "positive"
    assert entry.actor == "user:ana"
    assert item.text not in entry.diff  # labels only, never the text


def test_only_the_sentiment_can_be_corrected_and_bad_values_are_refused(client, platform, tweets):  # noqa: F811
    log_in(client, platform, Role.AGENT, "amy")
    item = first_item(platform, sentiment="neutral")
    assert send_correction(client, item.id, {"sentiment": "positive"}).status_code == 303
    with platform.db.reading() as session:
        fixed = corrections.corrections_of(session, [item.id])[item.id]
    assert fixed.sentiment == "positive" and fixed.topics is None
    refused = send_correction(client, item.id, {"sentiment": "furious"})
    assert refused.status_code == 422
    nothing = send_correction(client, item.id, {})
    assert nothing.status_code == 422


def test_a_viewer_sees_no_correction_form_and_cannot_post_one(client, platform, tweets):  # noqa: F811
    log_in(client, platform, Role.VIEWER, "vic")
    item = first_item(platform)
    page = client.get(f"/feedback/{item.id}").text
    assert "Correct the analysis" not in page
    posted = client.post(
        f"/feedback/{item.id}/correct",
        data={"sentiment": "negative", "csrf_token": csrf_from(page)},
    )
    assert posted.status_code == 403


def test_corrections_become_training_examples_that_override_the_file(platform, tweets):  # noqa: F811
    item = first_item(platform, sentiment="positive")
    with platform.db.transaction() as session:
        corrections.correct_feedback(
            session, item.id, sentiment="negative", topics=None, actor="user:test"
        )
    with platform.db.reading() as session:
        examples = corrections.correction_examples(session, platform.vault, "sentiment")
        topic_examples = corrections.correction_examples(session, platform.vault, "topic")
    assert examples.texts == [item.text] and examples.labels == ["negative"]
    assert topic_examples.texts == []  # the topics were not corrected

    texts, labels, _ = merge_examples(
        [item.text, "another"], ["positive", "neutral"], None, *vars(examples).values()
    )
    assert texts == [item.text, "another"] and labels == ["negative", "neutral"]
    texts, labels, keys = merge_examples(
        ["a", "b"], ["x", "y"], ["ka", "kb"], *vars(examples).values()
    )
    assert (
        texts[-1] == item.text and labels[-1] == "negative" and keys[-1] == f"correction:{item.id}"
    )


def test_model_train_includes_corrections_when_asked(cli, platform, tweets, tmp_path):  # noqa: F811
    item = first_item(platform, sentiment="positive")
    with platform.db.transaction() as session:
        corrections.correct_feedback(
            session, item.id, sentiment="negative", topics=None, actor="user:test"
        )
    data = tmp_path / "labelled.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i in range(40):
            writer.writerow([f"love it, wonderful, thank you {i}", "positive"])
            writer.writerow([f"awful, broken, angry {i}", "negative"])
            writer.writerow([f"what time does it open {i}", "neutral"])

    def rows_trained(*extra):
        result = cli("model", "train", "--task", "sentiment", "--data", str(data),
                     "--out", str(tmp_path / "model"), *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        meta = json.loads((tmp_path / "model" / "meta.json").read_text())
        return meta["train_rows"] + meta["validation_rows"], result.output

    plain, _ = rows_trained()
    with_corrections, output = rows_trained("--include-corrections")
    assert with_corrections == plain + 1
    assert re.search(r"1\s+staff correction\(s\) included", output)


def test_a_forged_cursor_is_named_not_a_crash(client, platform, tweets):  # noqa: F811
    log_in(client, platform, Role.ANALYST)
    for cursor in ("99999999999999", "nonsense", "2015-02-24T10:00:00_99999999999"):
        for q in ("", "bag"):
            page = client.get("/feedback", params={"cursor": cursor, "q": q})
            assert page.status_code == 200 and 'role="alert"' in page.text, (cursor, q)


def test_corrections_retrain_a_new_version_that_is_activated_by_choice_and_rolled_back(
    cli,
    platform,
    tweets,  # noqa: F811
    monkeypatch,
):
    from trustdesk.feedback import registry
    from trustdesk.feedback.analysis import default_analyser

    shipped = registry.shipped_rows("airline_tweets.csv.gz")[:1500]  # a quicker retrain
    monkeypatch.setattr(registry, "shipped_rows", lambda name: shipped)
    item = first_item(platform, sentiment="positive")
    with platform.db.transaction() as session:
        corrections.correct_feedback(
            session, item.id, sentiment="negative", topics=None, actor="user:test"
        )
    data_dir = platform.settings.data_dir
    before = default_analyser(data_dir).version

    trained = cli("model", "retrain", "--task", "sentiment")
    assert trained.exit_code == 0, trained.output
    version = re.search(r"(sentiment-\d{8}-\d{6}): accuracy (0\.\d+)", trained.output)
    assert version and float(version.group(2)) > 0.6, trained.output
    assert "not active" in trained.output
    assert default_analyser(data_dir).version == before  # retraining alone changes nothing

    listed = cli("model", "versions", "--task", "sentiment")
    assert listed.exit_code == 0 and version.group(1) in listed.output
    (new,) = [v for v in registry.list_versions(data_dir, "sentiment") if not v.active]
    assert new.corrections == 1 and new.metrics["rows"] > 200
    assert new.metrics["compared_with"] == "default" and new.metrics["active_accuracy"] > 0.6

    assert cli("model", "activate", version.group(1), "--task", "sentiment").exit_code == 0
    assert version.group(1) in default_analyser(data_dir).version
    assert cli("model", "rollback", "--task", "sentiment").exit_code == 0
    assert default_analyser(data_dir).version == before
    refused = cli("model", "rollback", "--task", "sentiment")
    assert refused.exit_code == InvalidInput.exit_code and "no earlier" in refused.output
    missing = cli("model", "activate", "sentiment-19990101-000000", "--task", "sentiment")
    assert missing.exit_code != 0
    with platform.db.reading() as session:
        actions = [
            e.action
            for e in session.query(AuditEntry)
            .filter(AuditEntry.action.like("model.%"))
            .order_by(AuditEntry.id)
        ]
    assert actions == ["model.trained", "model.activated", "model.rolled_back"]
