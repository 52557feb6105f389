"""`fraud train`: a new model version from stored payments (or a file), validated on a later period.

The backtest's protocol, ending at the latest data: train on `train_days`, skip `delay_days` (labels
arrive late), validate on the last `valid_days`, whose labels never reach the features. Only labels
known by the cut-off count. The artefact goes to `<data_dir>/models/fraud/v<N>/` (model, meta,
metrics.json) and the version is recorded, audited, in the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.db import Database, utcnow
from trustdesk.errors import InvalidInput
from trustdesk.fraud.learning.backtest import BacktestResult, Protocol, run_backtest
from trustdesk.fraud.learning.classifier import Trainer, fit_local
from trustdesk.fraud.learning.features import FEATURES, GroupMap
from trustdesk.fraud.learning.simulator import simulate
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.fraud.schemas import LabelKind
from trustdesk.fraud.scoring import versions
from trustdesk.fraud.scoring.stored_history import HISTORY_COLUMNS

__all__ = [
    "EMBEDDED",
    "Engine",
    "TrainingWindow",
    "build_default_model",
    "score_bins",
    "stored_frame",
    "train_and_register",
    "train_frame",
    "validation_bins",
]

BINS = 10


@dataclass(frozen=True)
class TrainingWindow:
    train_days: int = 7
    delay_days: int = 7
    valid_days: int = 7

    def protocol(self, frame: pd.DataFrame) -> Protocol:
        """The protocol whose validation period ends with the data's last day."""
        if frame.empty:
            raise InvalidInput("no transactions to train on")
        end = frame["tx_datetime"].max().normalize() + pd.Timedelta(days=1)
        start = end - pd.Timedelta(days=self.valid_days + self.delay_days + self.train_days)
        if frame["tx_datetime"].min() > start:
            days = self.train_days + self.delay_days + self.valid_days
            raise InvalidInput(
                f"not enough history: training needs {days} days of transactions, "
                f"from {start:%Y-%m-%d}"
            )
        return Protocol(start.date(), self.train_days, self.delay_days, self.valid_days)


def stored_frame(session: Session, *, labels_known_by: datetime) -> pd.DataFrame:
    """Stored payments in the backtest's columns; tx_fraud from the latest label known by then."""
    rows = session.execute(
        select(*HISTORY_COLUMNS).order_by(FraudTransaction.at, FraudTransaction.id)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=["pk", "transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_amount"],
    )
    latest: dict[int, int] = {}
    for pk, label in session.execute(
        select(FraudLabel.transaction_pk, FraudLabel.label)
        .where(FraudLabel.known_at <= labels_known_by)
        .order_by(FraudLabel.known_at, FraudLabel.id)
    ):
        latest[pk] = int(LabelKind(label).is_fraud)
    frame["tx_fraud"] = frame["pk"].map(latest).fillna(0).astype(int)
    frame["tx_amount"] = frame["tx_amount"].astype(float)
    frame["tx_datetime"] = pd.to_datetime(frame["tx_datetime"], utc=True).dt.tz_localize(None)
    return frame.drop(columns=["pk"])


def score_bins(scores: np.ndarray) -> dict[str, list[float]]:
    """Decile edges of the validation scores and each bin's share: the drift baseline (PSI)."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = 0.0, 1.0
    counts, _ = np.histogram(scores, bins=edges)
    shares = counts / max(1, counts.sum())
    return {"edges": [float(e) for e in edges], "shares": [float(s) for s in shares]}


@dataclass(frozen=True)
class Engine:
    """Where the features and the trees are computed: here (the default) or on a Dask cluster
    (`DaskGroups` and `DaskTrainer`); what `describe` says after training goes into the version's
    metrics as `trained_on`."""

    group_map: GroupMap | None = None
    trainer: Trainer = fit_local
    describe: Callable[[], dict[str, Any]] = lambda: {"engine": "embedded"}


EMBEDDED = Engine()


def train_frame(
    frame: pd.DataFrame, window: TrainingWindow, engine: Engine = EMBEDDED
) -> tuple[BacktestResult, Protocol]:
    protocol = window.protocol(frame)
    result = run_backtest(frame, protocol, group_map=engine.group_map, trainer=engine.trainer)
    return result, protocol


def _metrics(result: BacktestResult, protocol: Protocol, source: str) -> dict[str, Any]:
    return {
        **result.metrics_all.as_dict(),
        "handbook_test_set": result.metrics.as_dict(),
        "source": source,
        "training_window": {
            "start": protocol.train_start.isoformat(),
            "days": protocol.train_days,
            "label_delay_days": protocol.delay_days,
        },
        "validation_window": {
            "start": f"{protocol.test_start:%Y-%m-%d}",
            "end": f"{protocol.test_end:%Y-%m-%d}",
        },
        "train_rows": result.train_rows,
        "validation_rows": result.test_rows,
        "validation_scores": score_bins(result.scores["score"].to_numpy()),
    }


def train_and_register(
    db: Database,
    data_dir: Path,
    frame: pd.DataFrame | None,
    window: TrainingWindow,
    *,
    actor: str,
    activate: bool | None = None,
    labels_known_by: datetime | None = None,
    engine: Engine = EMBEDDED,
) -> versions.ModelInfo:
    """Train on `frame` (None: the stored payments), save the artefact, record the version.

    `activate=None` activates the new version only when no trained version is active yet.
    `engine`: where features and trees are computed (a Dask cluster for large histories).
    """
    now = utcnow()
    source = "file"
    if frame is None:
        with db.reading() as session:
            frame = stored_frame(session, labels_known_by=labels_known_by or now)
        source = "stored transactions"
    if frame["tx_fraud"].nunique() < 2:
        raise InvalidInput("training needs both fraudulent and genuine labelled transactions")
    result, protocol = train_frame(frame, window, engine)
    with db.transaction() as session:
        version = versions.next_model_version(session)
        directory = data_dir / "models" / "fraud" / f"v{version}"
        result.model.save(directory)
        metrics = {**_metrics(result, protocol, source), "trained_on": engine.describe()}
        (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
        if activate is None:
            activate = versions.active_model(session) is None
        return versions.register_model(
            session,
            version,
            str(directory),
            metrics,
            actor=actor,
            now=now,
            activate=activate,
        )


SHIPPED_SIMULATION = {"days": 100, "customers": 400, "terminals": 400, "seed": 11}
SHIPPED_WINDOW = TrainingWindow(train_days=14, delay_days=7, valid_days=7)
# The shipped model keeps the features and raw (uncalibrated) scores it was built with: the decision
# thresholds of the demo and of the tests were set against its scores. Trained versions (`fraud
# train`) use every feature and are calibrated.
SHIPPED_FEATURES = tuple(
    f
    for f in FEATURES
    if f not in ("terminal_days_since_known_fraud", "customer_days_since_known_fraud")
)


def default_model_dir() -> Path:
    return Path(str(files("trustdesk.fraud") / "default_model"))


def build_default_model(out: Path | None = None) -> dict[str, Any]:
    """(developers) Retrain the shipped model (version 0) from the package's own simulator: the
    same data, window and parameters give the same artefact. Its metrics.json."""
    args = SHIPPED_SIMULATION
    frame = simulate(**args)
    protocol = SHIPPED_WINDOW.protocol(frame)
    result = run_backtest(frame, protocol, feature_names=SHIPPED_FEATURES, calibrate=False)
    directory = out or default_model_dir()
    result.model.meta.pop("trained_at", None)  # rebuilding the same model changes no file
    result.model.save(directory)
    source = "simulator: simulate(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")"
    metrics = _metrics(result, protocol, source)
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return metrics


def validation_bins(session: Session) -> dict[str, list[float]] | None:
    """The active model's validation score bins (the shipped model's when none is trained)."""
    info = versions.active_model(session)
    if info is None:
        shipped = files("trustdesk.fraud") / "default_model" / "metrics.json"
        metrics = json.loads(shipped.read_text(encoding="utf-8"))
    else:
        metrics = info.metrics
    bins = metrics.get("validation_scores")
    return bins if isinstance(bins, dict) else None
