"""Feedback through the real CLI and API: import contracts, idempotency, rejects, analysis, models."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import Role
from trustdesk.feedback import public
from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import import_feedback_rows
from trustdesk.tabular import Row

IMPORT = TWEET_IMPORT


def _tweets(limit: int) -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as fh:
        reader = csv.DictReader(fh)
        rows = [row for _, row in zip(range(limit), reader, strict=False)]
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def tweet_sample(tmp_path_factory) -> Path:
    """The first 300 real tweets, as a user would hand them over."""
    header, rows = _tweets(300)
    path = tmp_path_factory.mktemp("tweets") / "tweets.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_tweets_import_with_the_documented_command_and_again_changes_nothing(
    cli, platform, tweet_sample
):
    first = cli(*IMPORT, str(tweet_sample), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["created"] >= 290 and report["rejected"] == []
    again = json.loads(cli(*IMPORT, str(tweet_sample), "--json").stdout)
    assert again["created"] == 0 and again["unchanged"] == 300
    with platform.db.reading() as session:
        batches = list(public.iter_feedback_batches(session, batch_size=100))
        items = public.feedback_items(session, platform.vault, [int(batches[0].id[0])])
    ids = [i for b in batches for i in b.id.tolist()]
    assert len(ids) == report["created"] and ids == sorted(ids)
    batch = batches[0]
    assert set(batch.segment) <= {
        "Virgin America",
        "United",
        "Southwest",
        "Delta",
        "US Airways",
        "American",
    }
    assert batch.p_negative.dtype.name == "float32" and batch.topics_mask.dtype.name == "int32"
    assert (batch.customer_id == -1).all() and np.isnan(batch.rating).all()
    assert items[0].text and items[0].sentiment in {"negative", "neutral", "positive"}


def test_text_is_encrypted_at_rest(cli, settings, backend, platform, tweet_sample):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file")
    cli(*IMPORT, str(tweet_sample))
    _, rows = _tweets(5)
    platform.close()
    data = (settings.data_dir / "trustdesk.db").read_bytes()
    wal = settings.data_dir / "trustdesk.db-wal"
    data += wal.read_bytes() if wal.exists() else b""
    for row in rows:
        assert row["text"].encode() not in data


def test_each_bad_row_is_rejected_with_its_reason_and_good_rows_are_kept(cli, platform, tmp_path):
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    lines = [
        b"id,text,at,stars,lang",
        b"g1,Great service thank you,2024-01-01T00:00:00Z,5,en",
        b"b2,,2024-01-01T00:00:00Z,4,en",
        b"b3,Bonjour,2024-01-01T00:00:00Z,4,xx",
        b"b4," + b"a" * 1_000_000 + b",2024-01-01T00:00:00Z,4,en",
        b"b5,broken \xff\xfe bytes,2024-01-01T00:00:00Z,4,en",
        b"b6,Too many stars,2024-01-01T00:00:00Z,9,en",
        b"b7,From the future," + future.encode() + b",3,en",
        b"g8,They charged me twice,2024-01-02T00:00:00Z,1,en",
    ]
    path = tmp_path / "survey.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = cli(
        "feedback", "import", str(path), "--source", "survey", "--id-column", "id",
        "--time-column", "at", "--rating-column", "stars", "--rating-scale", "stars5",
        "--language-column", "lang",
    )  # fmt: skip
    assert result.exit_code == 2
    with (tmp_path / "survey.csv.rejects.csv").open(encoding="utf-8") as fh:
        rejects = {r["external_id"]: r for r in csv.DictReader(fh)}
    expected = {
        "b2": "text is empty",
        "b3": "ISO 639-1",
        "b4": "too long",
        "b5": "UTF-8",
        "b6": "out of range",
        "b7": "in the future",
    }
    assert set(rejects) == set(expected)
    for external_id, words in expected.items():
        assert words in rejects[external_id]["reason"]
        assert f"row {rejects[external_id]['row']}: " in result.stderr
    assert rejects["b2"]["row"] == "2"
    listed = json.loads(cli("feedback", "list", "--source", "survey", "--json").stdout)["items"]
    assert [i["external_id"] for i in listed] == ["g1", "g8"]
    assert listed[0]["rating"] == 1.0 and listed[1]["rating"] == 0.0


def test_rejects_path_can_be_chosen(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"external_id": "j1", "text": "", "at": "2024-01-01"}\nnot json\n')
    target = tmp_path / "bad.csv"
    result = cli("feedback", "import", str(path), "--source", "chat", "--rejects", str(target))
    assert result.exit_code == 2
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["row"], r["reason"][:8]) for r in rows] == [("1", "text is "), ("2", "not vali")]


def test_feedback_linked_to_a_customer_is_shredded_with_the_customer(cli, platform, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,name\nc1,Ada\n")
    assert cli("customers", "import", str(customers)).exit_code == 0
    path = tmp_path / "tickets.csv"
    path.write_text(
        "id,text,at,customer\n"
        "t1,My account was hacked,2024-01-01T00:00:00Z,c1\n"
        "t2,Who do I call,2024-01-01T00:00:00Z,nobody\n"
    )
    result = cli(
        "feedback", "import", str(path), "--source", "ticket", "--id-column", "id",
        "--time-column", "at", "--customer-column", "customer", "--json",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["created"] == 1 and "no customer" in report["rejected"][0]["reason"]
    assert cli("customers", "forget", "c1", "--yes").exit_code == 0
    item = json.loads(cli("feedback", "list", "--json").stdout)["items"][0]
    assert item["text"] is None and item["text_state"] == "erased"
    assert item["sentiment"] and item["customer_id"] is not None


def test_analyze_writes_the_input_columns_plus_the_analysis(cli, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text\n1,Thanks so much for the upgrade!\n2,Charged a hidden fee again\n3,\n"
    )
    output = tmp_path / "out.csv"
    result = cli(
        "feedback", "analyze", str(source), "--text-column", "text", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == [
        "id",
        "text",
        "sentiment",
        "p_negative",
        "p_neutral",
        "p_positive",
        "topics",
    ]
    assert rows[0]["sentiment"] == "positive" and rows[1]["sentiment"] == "negative"
    assert "billing_honesty" in rows[1]["topics"].split(";")
    total = sum(float(rows[1][c]) for c in ("p_negative", "p_neutral", "p_positive"))
    assert total == pytest.approx(1.0, abs=1e-3)
    assert rows[2]["sentiment"] == ""


def test_model_train_then_predict_and_analyze_with_it(cli, tmp_path):
    data = tmp_path / "labelled.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["msg", "tone"])
        for i in range(40):
            writer.writerow([f"love it, wonderful, thank you {i}", "positive"])
            writer.writerow([f"awful, broken, angry {i}", "negative"])
            writer.writerow([f"what time does it open {i}", "neutral"])
    out_dir = tmp_path / "model"
    trained = cli(
        "model", "train", "--task", "sentiment", "--data", str(data), "--text-column", "msg",
        "--label-column", "tone", "--out", str(out_dir),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert json.loads((out_dir / "meta.json").read_text())["task"] == "sentiment"
    inputs = tmp_path / "new.csv"
    inputs.write_text("msg\nwonderful thank you\nbroken and awful\n")
    predicted = tmp_path / "pred.csv"
    result = cli(
        "model",
        "predict",
        "--model",
        str(out_dir),
        str(inputs),
        "--text-column",
        "msg",
        "--output",
        str(predicted),
    )
    assert result.exit_code == 0, result.output
    assert [r["label"] for r in csv.DictReader(predicted.open())] == ["positive", "negative"]
    analysed = tmp_path / "analysed.csv"
    result = cli(
        "feedback",
        "analyze",
        str(inputs),
        "--text-column",
        "msg",
        "--output",
        str(analysed),
        "--model",
        str(out_dir),
    )
    assert result.exit_code == 0, result.output
    assert [r["sentiment"] for r in csv.DictReader(analysed.open())] == ["positive", "negative"]


def _body(**changes):
    body = {
        "source": "nps",
        "external_id": "n1",
        "at": "2024-05-01T12:00:00Z",
        "text": "Honest and quick refund",
        "rating": 9,
        "rating_scale": "nps",
        "segment": "retail",
    }
    body.update(changes)
    return body


def test_api_single_is_idempotent_and_readable(api):
    created = api.post("/api/v1/feedback", json=_body())
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["rating"] == pytest.approx(0.9) and item["text"] == "Honest and quick refund"
    assert set(item) >= {"sentiment", "p_negative", "p_neutral", "p_positive", "topics"}
    again = api.post("/api/v1/feedback", json=_body(text="changed"))
    assert again.status_code == 200 and again.json()["id"] == item["id"]
    assert api.get(f"/api/v1/feedback/{item['id']}").json()["text"] == "Honest and quick refund"
    assert api.get("/api/v1/feedback/999999").status_code == 404
    bad = api.post("/api/v1/feedback", json=_body(external_id="n2", rating=11))
    assert bad.status_code == 422 and "out of range" in bad.json()["detail"]


def test_api_bulk_reports_bad_records_by_position_and_list_pages(api):
    records = [_body(external_id=f"b{i}", text=f"Quick refund number {i}") for i in range(5)]
    records.insert(2, _body(external_id="bad", text=""))
    report = api.post("/api/v1/feedback/bulk", json=records).json()
    assert report["created"] == 5
    assert report["rejected"] == [{"row": 3, "external_id": "bad", "reason": "text is empty"}]
    page = api.get("/api/v1/feedback", params={"limit": 3, "segment": "retail"}).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.get("/api/v1/feedback", params={"cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert api.get("/api/v1/feedback", params={"topic": "nonsense"}).status_code == 422


def test_api_permissions(client, token_for):
    assert client.get("/api/v1/feedback").status_code == 401
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    assert client.get("/api/v1/feedback", headers=viewer).status_code == 200
    assert client.post("/api/v1/feedback", json=_body(), headers=viewer).status_code == 403
    agent = {"Authorization": f"Bearer {token_for(Role.AGENT)}"}
    assert client.post("/api/v1/feedback", json=_body(), headers=agent).status_code == 201


_stored_ids: dict[int, set[str]] = {}  # hypothesis examples share the test's database


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(
        st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=8, unique=True
    ),
    repeats=st.integers(min_value=2, max_value=3),
)
def test_importing_the_same_feedback_again_is_idempotent(platform, ids, repeats):
    seen_ids = _stored_ids.setdefault(id(platform), set())
    rows = [
        Row(i, {"external_id": f"h-{x}", "text": f"text {x}", "at": "2024-01-01", "source": "prop"})
        for i, x in enumerate(ids, 1)
    ]
    reports = [
        import_feedback_rows(platform.db, platform.vault, rows, default_analyser(), actor="test")
        for _ in range(repeats)
    ]
    assert reports[0].created + reports[0].unchanged == len(ids)
    assert all(r.created == 0 and r.unchanged == len(ids) for r in reports[1:])
    with platform.db.reading() as session:
        stored = sum(len(b) for b in public.iter_feedback_batches(session))
    assert stored == len(seen_ids.union(ids))
    seen_ids.update(ids)


def test_rows_stored_for_later_analysis_are_never_skipped_by_the_trust_index(
    cli, api, tweet_sample
):
    stored = json.loads(cli(*IMPORT, str(tweet_sample), "--no-analyse", "--json").stdout)
    assert stored["created"] >= 290 and stored["analysed"] == 0
    late = {
        "source": "survey",
        "external_id": "s1",
        "text": "Great service, thank you!",
        "at": "2015-02-25T10:00:00Z",
        "segment": "Delta",
    }
    assert api.post("/api/v1/feedback", json=late).status_code == 201  # analysed at once
    first = json.loads(cli("trust", "recompute", "--json").stdout)
    assert first["observations"] == 0  # everything after the oldest pending row waits
    assert "analysed and indexed" in cli("feedback", "process").stdout
    second = json.loads(cli("trust", "recompute", "--json").stdout)
    assert second["observations"] == stored["created"] + 1
    full = json.loads(cli("trust", "recompute", "--full", "--json").stdout)
    assert full["observations"] == second["observations"]
    found = json.loads(cli("feedback", "list", "--q", "great", "--json").stdout)
    assert found  # indexed for search by the processing stage too
