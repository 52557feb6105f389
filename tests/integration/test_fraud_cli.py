"""The fraud commands on the real database: bulk import, late labels, training, model versions
and rule sets."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import func, select
from tests.fraud_data import simulate

from trustdesk.db import utcnow
from trustdesk.fraud import service, training
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.fraud.schemas import LabelIn, LabelKind


@pytest.fixture(scope="module")
def history_file(tmp_path_factory):
    """40 days of simulated payments in the card-transactions format."""
    path = tmp_path_factory.mktemp("fraud-cli") / "transactions.csv.gz"
    simulate(days=40, customers=40, terminals=40, seed=5).to_csv(path, index=False)
    return path


def _count(platform, model) -> int:
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_import_stores_payments_and_labels_and_a_rerun_stores_nothing_twice(
    cli, platform, history_file
):
    rows = len(simulate(days=40, customers=40, terminals=40, seed=5))
    first = cli("fraud", "import", "--transactions", str(history_file), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["created"] == rows and report["labels"] == rows and report["rejected"] == []
    again = json.loads(cli("fraud", "import", "--transactions", str(history_file), "--json").output)
    assert again["created"] == 0 and again["unchanged"] == rows and again["labels"] == 0
    assert _count(platform, FraudTransaction) == rows
    assert _count(platform, FraudLabel) == rows


def test_bad_rows_are_reported_by_number_and_the_good_ones_stored(cli, platform, tmp_path):
    path = tmp_path / "generic.csv"
    path.write_text(
        "transaction_id,at,customer_id,terminal_id,amount,currency,channel,country\n"
        "g-1,2024-03-01T10:00:00Z,c1,t1,12.00,EUR,online,FR\n"
        "g-2,2024-03-01T10:05:00Z,c1,t1,-3.00,EUR,online,FR\n"
        "g-3,2024-03-01T10:06:00Z,c1,t1,12.00,ZZZ,online,FR\n"
        "g-4,2024-03-01T10:07:00Z,c2,t1,99999999.00,USD,pos,\n"
        "g-5,2024-03-01T10:08:00Z,c2,t2,8.50,usd,mobile,\n"
    )
    result = cli("fraud", "import", "--transactions", str(path), "--json")
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["created"] == 2
    assert [(r["row"], r["transaction_id"]) for r in report["rejected"]] == [
        (2, "g-2"),
        (3, "g-3"),
        (4, "g-4"),
    ]
    assert "ISO 4217" in report["rejected"][1]["reason"]
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "transaction_id,at,customer_id,terminal_id,amount\ng-1,2024-03-01T10:00:00Z,c1,t1,13.00\n"
    )
    clashed = json.loads(cli("fraud", "import", "--transactions", str(clash), "--json").output)
    assert clashed["rejected"][0]["reason"].startswith("a different payment")
    assert _count(platform, FraudTransaction) == 2


def test_late_labels_import_and_unknown_transactions_are_reported(cli, platform, tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text(
        "transaction_id,at,customer_id,terminal_id,amount\n"
        "l-1,2024-03-01T10:00:00Z,c1,t1,12.00\nl-2,2024-03-01T11:00:00Z,c1,t1,15.00\n"
    )
    assert cli("fraud", "import", "--transactions", str(path)).exit_code == 0
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "transaction_id,label,known_at,source\n"
        "l-1,chargeback,2024-03-20T00:00:00Z,acquirer\n"
        "l-2,maybe,,\n"
        "nope,fraud,,\n"
    )
    result = cli("fraud", "labels", "import", str(labels), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 2 and report["labels"] == 1
    assert [r["row"] for r in report["rejected"]] == [2, 3]
    with platform.db.reading() as session:
        stored = session.execute(select(FraudLabel.label, FraudLabel.source)).all()
    assert stored == [("chargeback", "acquirer")]


def test_train_versions_a_model_validated_on_later_days_and_activate_switches(
    cli, platform, settings, history_file
):
    assert cli("fraud", "import", "--transactions", str(history_file)).exit_code == 0
    trained = cli("fraud", "train", "--json")
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.output)
    assert metrics["version"] == 1 and metrics["active"] is True
    assert 0.5 < metrics["auc_roc"] <= 1.0
    assert metrics["validation_window"] == {"start": "2018-05-04", "end": "2018-05-11"}
    assert metrics["training_window"]["start"] == "2018-04-20"
    artefact = settings.data_dir / "models" / "fraud" / "v1"
    assert {p.name for p in artefact.iterdir()} >= {"model.txt", "meta.json", "metrics.json"}
    assert json.loads((artefact / "metrics.json").read_text())["auc_roc"] == metrics["auc_roc"]

    from_file = cli("fraud", "train", "--transactions", str(history_file), "--no-activate")
    assert from_file.exit_code == 0 and "model v2" in from_file.output
    listed = json.loads(cli("fraud", "models", "list", "--json").output)
    assert [(m["version"], m["active"]) for m in listed] == [(2, False), (1, True)]
    assert cli("fraud", "models", "activate", "2").exit_code == 0
    listed = json.loads(cli("fraud", "models", "list", "--json").output)
    assert [(m["version"], m["active"]) for m in listed] == [(2, True), (1, False)]
    assert cli("fraud", "models", "activate", "9").exit_code == 3


def test_review_outcomes_become_training_data_and_a_retrained_version_can_be_rolled_back(
    cli, platform, history_file
):
    """A reviewer's decision is a label (source review) that the next `fraud train` reads; the
    new version carries its validation figures and calibration; the earlier one can come back."""
    assert cli("fraud", "import", "--transactions", str(history_file)).exit_code == 0
    data = pd.read_csv(history_file)
    genuine = str(data.loc[data.tx_fraud == 0, "transaction_id"].iloc[-1])
    fraud = str(data.loc[data.tx_fraud == 1, "transaction_id"].iloc[-1])
    for tx_id, outcome in ((genuine, LabelKind.FRAUD), (fraud, LabelKind.GENUINE)):
        label = LabelIn(label=outcome, source="review")
        service.label_transaction(platform.db, None, tx_id, label, actor="analyst")
    with platform.db.reading() as session:
        frame = training.stored_frame(session, labels_known_by=utcnow())
    by_id = frame.set_index("transaction_id")["tx_fraud"]
    assert (by_id[genuine], by_id[fraud]) == (1, 0)  # the reviewer's word wins over the import's

    first = json.loads(cli("fraud", "train", "--json").output)
    second = json.loads(cli("fraud", "train", "--json", "--activate").output)
    assert (first["version"], second["version"]) == (1, 2) and second["active"] is True
    for key in ("auc_roc", "average_precision", "card_precision_at_100", "validation_window"):
        assert key in second
    assert cli("fraud", "models", "activate", "1").exit_code == 0  # roll back
    listed = json.loads(cli("fraud", "models", "list", "--json").output)
    assert [(m["version"], m["active"]) for m in listed] == [(2, False), (1, True)]


def test_train_refuses_too_little_history(cli, tmp_path):
    path = tmp_path / "short.csv"
    simulate(days=10, customers=10, terminals=10).to_csv(path, index=False)
    result = cli("fraud", "train", "--transactions", str(path))
    assert result.exit_code == 2 and "not enough history" in result.output


def test_rule_sets_load_as_numbered_versions_and_a_bad_file_changes_nothing(cli, tmp_path):
    assert "large_online_payment" in cli("fraud", "rules", "show").output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - name: ok_rule\n    when: amount > 1\n    action: force_review\n"
        "    reason: fine\n  - name: typo_rule\n    when: amuont > 1\n    action: force_review\n"
        "    reason: oops\n"
    )
    refused = cli("fraud", "rules", "load", str(bad))
    assert refused.exit_code == 2
    assert "rule 'typo_rule'" in refused.output and "unknown field 'amuont'" in refused.output
    good = tmp_path / "good.yaml"
    good.write_text(
        "rules:\n  - name: huge\n    when: amount >= 10000\n    action: force_decline\n"
        "    reason: Too large.\n"
    )
    assert cli("fraud", "rules", "load", str(good)).exit_code == 0
    assert "huge" in cli("fraud", "rules", "show").output
    listed = cli("fraud", "rules", "versions").output
    assert "v1 *active*" in listed and "v0  shipped" in listed


def test_the_shipped_model_is_what_the_code_builds(cli, tmp_path):
    """The artefact in the package comes from the simulator, the window and PARAMS as they are:
    a change to any of them without rebuilding it (`fraud models build-default`) fails here."""
    result = cli("fraud", "models", "build-default", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "shipped model rebuilt: validation AUC" in result.output
    shipped = training.default_model_dir()
    for name in ("model.txt", "meta.json", "metrics.json"):
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), name
