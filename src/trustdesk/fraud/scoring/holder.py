"""The scorer's memory over time: built at start-up from the stored payments, labels and active
versions, then caught up with what other processes changed. Scoring a payment with it is a use
case of `fraud.service` (`score_transaction`).
"""

from __future__ import annotations

import gc
import logging
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path

from trustdesk.config import Settings
from trustdesk.db import Database, utcnow
from trustdesk.fraud.learning.classifier import FraudModel
from trustdesk.fraud.learning.online import History, Transaction
from trustdesk.fraud.rules.ruleset import parse_rules
from trustdesk.fraud.schemas import Limits
from trustdesk.fraud.scoring import stored_history, versions
from trustdesk.fraud.scoring.engine import FraudEngine
from trustdesk.trust.public import customer_trust_indices

__all__ = [
    "SHIPPED_MODEL",
    "EngineHolder",
    "limits_from",
    "load_engine",
    "shipped_model",
]

SHIPPED_MODEL = "v0-shipped"
_log = logging.getLogger("trustdesk.fraud")
_FREEZE_FROM = 100_000  # payments in memory


def shipped_model() -> FraudModel:
    """The model trained on simulated payments that ships with TrustDesk (works out of the box)."""
    with as_file(files("trustdesk.fraud") / "default_model") as directory:
        return FraudModel.load(Path(directory))


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_amount=Decimal(str(settings.fraud_max_amount)),
        clock_skew_s=settings.fraud_clock_skew_s,
    )


def load_engine(db: Database, settings: Settings, *, now: datetime | None = None) -> FraudEngine:
    """Read the active model and rules, the recent transactions and the labels known by now."""
    now = now or utcnow()
    with db.reading() as session:
        model_info = versions.active_model(session)
        rules_info = versions.active_rules(session)
        if model_info is None:
            model, model_version = shipped_model(), SHIPPED_MODEL
        else:
            model, model_version = FraudModel.load(Path(model_info.path)), f"v{model_info.version}"
        engine = FraudEngine(
            model,
            model_version,
            parse_rules(rules_info.content),
            rules_info.version,
            History(timedelta(days=settings.fraud_label_delay_days)),
            trust=customer_trust_indices(session, settings),
        )
        since = now - timedelta(days=settings.fraud_history_days)
        for row in stored_history.history_rows(session, since=since):
            engine.history.add(
                Transaction(
                    row.transaction_id, row.at, row.customer_ref, row.terminal_id, float(row.amount)
                )
            )
            engine.last_pk = max(engine.last_pk, row.pk)
        for ref, first_seen, count, spend in stored_history.customer_first_seen(session):
            engine.set_standing(ref, first_seen, count, spend)
        engine.learn(stored_history.labels(session), now)
    engine.reread_pk, engine.reread_label_id = engine.last_pk, engine.last_label_id
    # The load reads a margin beyond the longest window: drop it now, not under traffic.
    engine.history.forget_before(now)
    return engine


def _catch_up(db: Database, engine: FraudEngine, settings: Settings) -> None:
    """What other processes changed since: activated versions, imported payments, labels.

    Each catch-up reads again from where the previous one started: on PostgreSQL row ids are
    handed out before commit, so a row can commit after a higher id was read, and would be missed
    for good. Rows read twice change nothing (payments already held are skipped, labels are
    counted idempotently). Reads happen outside the engine's lock; only the (usually tiny)
    changes are applied under it.
    """
    now = utcnow()
    with db.reading() as session:
        model_info = versions.active_model(session)
        version = SHIPPED_MODEL if model_info is None else f"v{model_info.version}"
        rules_info = versions.active_rules(session)
        fresh = stored_history.ids_after(session, engine.reread_pk)
        # New: neither held (scored here, or read before) nor taken in by the previous catch-up
        # (which a payment older than the windows has left again, counted in its customer's
        # standing all the same).
        missing = [
            pk for pk, tx_id in fresh if pk not in engine.reread_pks and tx_id not in engine.history
        ]
        since = now - timedelta(days=settings.fraud_history_days)
        new_rows = stored_history.rows_by_pk(session, missing, since=since) if missing else []
        labels = list(stored_history.labels(session, after_id=engine.reread_label_id))
    model = None
    if version != engine.model_version:
        model = shipped_model() if model_info is None else FraudModel.load(Path(model_info.path))
    with engine.lock:
        if model is not None:
            engine.model, engine.model_version = model, version
        if rules_info.version != engine.rules_version:
            engine.rules = parse_rules(rules_info.content)
            engine.rules_version = rules_info.version
        engine.reread_pk, engine.reread_label_id = engine.last_pk, engine.last_label_id
        engine.reread_pks = {pk for pk, _ in fresh if pk > engine.reread_pk}
        if fresh:
            engine.last_pk = max(engine.last_pk, max(pk for pk, _ in fresh))
        for row in new_rows:
            if row.transaction_id not in engine.history:
                engine.observe(
                    Transaction(
                        row.transaction_id,
                        row.at,
                        row.customer_ref,
                        row.terminal_id,
                        float(row.amount),
                    )
                )
        engine.learn(labels, now)


class EngineHolder:
    """The app's one engine: built at start-up, then caught up with other processes' changes
    (CLI imports, activations, labels) every `refresh_s` seconds by a background thread, so no
    request ever waits for that."""

    def __init__(self, db: Database, settings: Settings, *, refresh_s: float = 30.0) -> None:
        self.db, self.settings, self.refresh_s = db, settings, refresh_s
        self._engine: FraudEngine | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, background: bool = False) -> FraudEngine:
        with self._lock:
            if self._engine is None:
                self._engine = load_engine(self.db, self.settings)
                if len(self._engine.history) >= _FREEZE_FROM:
                    # Millions of history objects live as long as the process: keep the garbage
                    # collector from walking them on every full collection (a pause of seconds).
                    gc.collect()
                    gc.freeze()
            engine = self._engine
        if background and self._thread is None:
            self._thread = threading.Thread(
                target=self._refresh_loop, name="fraud-catch-up", daemon=True
            )
            self._thread.start()
        return engine

    def get(self) -> FraudEngine:
        return self._engine or self.start()

    def refresh(self) -> None:
        """Catch up now (after this process changed the active model or rules), and forget
        payments older than any feature window, so a server that runs for months keeps only
        the last two months in memory."""
        if self._engine is not None:
            with self._lock:
                _catch_up(self.db, self._engine, self.settings)
                forgotten = self._engine.forget_before(utcnow())
            if forgotten:
                _log.info("fraud scorer forgot %d payments older than its windows", forgotten)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # a failed catch-up is retried at the next tick
                _log.exception("fraud scorer catch-up failed")
