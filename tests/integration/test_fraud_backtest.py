"""The backtest contract: `trustdesk fraud backtest` scores every test-week transaction and never
uses test-period labels."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pandas as pd
import pytest
from tests.fraud_data import simulate
from typer.testing import CliRunner

from trustdesk.cli import app
from trustdesk.fraud.learning.backtest import rolling_windows


@pytest.fixture(scope="module")
def transactions(tmp_path_factory):
    path = tmp_path_factory.mktemp("fraud") / "transactions.csv.gz"
    simulate(days=50, customers=60, terminals=60).to_csv(path, index=False)
    return path


def _backtest(path, out, *extra):
    args = [
        "fraud",
        "backtest",
        "--transactions",
        str(path),
        "--train-start",
        "2018-05-01",
        "--train-days",
        "7",
        "--delay-days",
        "7",
        "--test-days",
        "7",
        "--output",
        str(out),
        *extra,
    ]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_backtest_scores_every_test_week_transaction_and_prints_metrics(transactions, tmp_path):
    result = _backtest(transactions, tmp_path / "scores.csv", "--baseline")
    assert result.exit_code == 0, result.output
    for metric in ("AUC", "AP", "CP@100", "baseline"):
        assert metric in result.output
    scores = pd.read_csv(tmp_path / "scores.csv")
    data = pd.read_csv(transactions, parse_dates=["tx_datetime"])
    week = data[(data.tx_datetime >= "2018-05-15") & (data.tx_datetime < "2018-05-22")]
    assert list(scores.columns) == ["transaction_id", "score"]
    assert sorted(scores.transaction_id) == sorted(week.transaction_id)
    assert scores.score.between(0, 1).all()


def test_test_period_labels_cannot_change_the_scores(transactions, tmp_path):
    data = pd.read_csv(transactions)
    flipped = data.copy()
    in_test = pd.to_datetime(flipped.tx_datetime) >= "2018-05-15"
    flipped.loc[in_test, "tx_fraud"] = 1 - flipped.loc[in_test, "tx_fraud"]
    flipped_path = tmp_path / "flipped.csv"
    flipped.to_csv(flipped_path, index=False)
    _backtest(transactions, tmp_path / "a.csv")
    _backtest(flipped_path, tmp_path / "b.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


def test_backtest_json_and_bad_input(transactions, tmp_path):
    result = _backtest(transactions, tmp_path / "s.csv", "--json")
    assert '"average_precision"' in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("transaction_id,amount\n1,2\n")
    failed = _backtest(bad, tmp_path / "s2.csv")
    assert failed.exit_code == 2 and "missing column" in failed.output
    assert _backtest(transactions, tmp_path / "s3.csv", "--train-start", "bogus").exit_code == 2


def test_backtest_scores_the_random_forest_baseline_in_the_same_run(transactions, tmp_path):
    result = _backtest(transactions, tmp_path / "s.csv", "--forest")
    assert result.exit_code == 0, result.output
    assert "random forest" in result.output
    summary = json.loads(_backtest(transactions, tmp_path / "t.csv", "--forest", "--json").output)
    forest = summary["baseline_random_forest"]
    assert set(forest) == {"auc_roc", "average_precision", "card_precision_at_100"}
    assert 0.5 < forest["auc_roc"] <= 1


def test_rolling_windows_cover_every_week_with_full_history_and_a_test_week_in_the_data():
    got = rolling_windows(date(2018, 4, 1), date(2018, 8, 31))
    starts = [w.train_start for w in got]
    assert starts[-1] == date(2018, 8, 11)  # test 2018-08-25 … 2018-08-31, the data's last day
    assert starts[0] == date(2018, 6, 2)  # 2018-05-26 would have 55 days of history, not 60
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(starts))
    assert got[-1].test_end == pd.Timestamp("2018-09-01")
    assert rolling_windows(date(2018, 4, 1), date(2018, 5, 1)) == []
