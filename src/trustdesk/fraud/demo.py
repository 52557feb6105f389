"""Payments for the demo: simulated cards, so the review queue and the fraud page have something
real to show without shipping anyone's card data.

The handbook's published transactions carry no licence, so the demo uses our own simulator
(`simulator.py`, the one the shipped model was trained on), moved in time to end an hour ago:
six weeks of history stored with their outcomes (known a week after each payment, as card
schemes report them), then the last two days scored one by one through the real-time path, and the
outcomes of the older scored ones recorded as an analyst would. The newest cases stay in the queue.

The simulated cards are paid with by demo customers: card i belongs to the i-th of 250 demo
customers picked evenly across the trust index (computed from their feedback just before this
step), so the review queue shows the same risk meeting customers of low and high trust, and a
genuine payment that was declined or challenged lowers its customer's trust in the next recompute.
The payments are simulated: nothing links a real tweet author to a real payment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from trustdesk.capabilities import DemoEcho
from trustdesk.config import Settings
from trustdesk.db import Database, utcnow
from trustdesk.fraud import service
from trustdesk.fraud.intake.bulk import import_transactions_rows
from trustdesk.fraud.learning.simulator import simulate
from trustdesk.fraud.models import FraudTransaction
from trustdesk.fraud.schemas import LabelIn, LabelKind, TransactionIn
from trustdesk.fraud.scoring.holder import limits_from, load_engine
from trustdesk.platform import Platform
from trustdesk.tabular import Row
from trustdesk.trust.public import customer_trust_indices

__all__ = ["DemoPayments", "load_demo_payments", "load_demo_step"]

PREFIX = "sim-"
CARDS = 250
DAYS = 45
SCORED_DAYS = 2
LABEL_DELAY = timedelta(days=7)


@dataclass(frozen=True)
class DemoPayments:
    stored: int
    scored: int
    labelled: int
    queued: int
    already_there: bool = False


def _frame(now: datetime) -> pd.DataFrame:
    frame = simulate(days=DAYS, customers=CARDS, terminals=200, seed=11)
    end = pd.Timestamp(now).tz_localize(None) - timedelta(hours=1)
    frame["tx_datetime"] = frame["tx_datetime"] + (end - frame["tx_datetime"].max())
    frame["channel"] = "pos"
    return pd.concat([frame, _cases_for_people(frame, end)], ignore_index=True)


def _cases_for_people(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Two patterns the shipped rules send to an analyst, in the scored days: large online
    payments (one in three fraudulent) and a card-testing run (thirty 1-euro payments in an hour
    at different terminals, a stolen card being tried before it is used)."""
    rng = np.random.default_rng(5)
    first = int(frame["transaction_id"].max()) + 1
    rows = []
    for i in range(9):
        rows.append(
            (
                end - timedelta(hours=float(rng.uniform(1, 44))),
                int(rng.integers(CARDS)),
                int(rng.integers(200)),
                round(float(rng.uniform(5_200, 9_800)), 2),
                int(i % 3 == 0),
                "online",
            )
        )
    start = end - timedelta(hours=30)
    for i in range(30):
        rows.append((start + timedelta(minutes=2 * i), CARDS - 1, i, 1.0, 1, "online"))
    extra = pd.DataFrame(
        rows,
        columns=["tx_datetime", "customer_id", "terminal_id", "tx_amount", "tx_fraud", "channel"],
    )
    extra.insert(0, "transaction_id", np.arange(first, first + len(extra)))
    return extra.sort_values("tx_datetime", kind="stable")


def card_holders(trust: Mapping[str, float], cards: int = CARDS) -> dict[int, str]:
    """{simulated card: demo customer external id}: customers picked evenly across the trust
    index, lowest first (cards left over when fewer customers have an index stay anonymous)."""
    ranked = sorted(trust, key=lambda external_id: (trust[external_id], external_id))
    if not ranked:
        return {}
    picks = min(cards, len(ranked))
    step = len(ranked) / picks
    return {card: ranked[int(card * step)] for card in range(picks)}


def _rows(frame: pd.DataFrame, holders: Mapping[int, str]) -> Iterator[Row]:
    for number, rec in enumerate(frame.itertuples(index=False), start=1):
        card = int(rec.customer_id)
        yield Row(
            number,
            {
                "transaction_id": f"{PREFIX}{rec.transaction_id}",
                "tx_datetime": rec.tx_datetime.isoformat() + "+00:00",
                "customer_id": holders.get(card, f"{PREFIX}card-{card}"),
                "terminal_id": f"{PREFIX}term-{rec.terminal_id}",
                "tx_amount": f"{rec.tx_amount:.2f}",
                "tx_fraud": str(rec.tx_fraud),
                "channel": rec.channel,
            },
            None,
        )


def load_demo_payments(
    db: Database,
    settings: Settings,
    echo: Callable[[str], None],
    scored: Callable[[int], None] = lambda done: None,
) -> DemoPayments:
    """Idempotent: once the simulated payments are there, a second run changes nothing.
    `scored` hears how many of the real-time payments are scored so far."""
    with db.reading() as session:
        if session.scalar(select(FraudTransaction.id).limit(1)) is not None:
            return DemoPayments(0, 0, 0, 0, already_there=True)
        holders = card_holders(customer_trust_indices(session, settings))
    now = utcnow()
    frame = _frame(now)
    cut = pd.Timestamp(now).tz_localize(None) - timedelta(days=SCORED_DAYS)
    history = frame[frame["tx_datetime"] < cut]
    live = frame[frame["tx_datetime"] >= cut].sort_values("tx_datetime", kind="stable")
    limits = limits_from(settings)
    report = import_transactions_rows(
        db, _rows(history, holders), handbook=True, limits=limits, actor="system:demo",
        label_delay=LABEL_DELAY,
    )  # fmt: skip
    engine = load_engine(db, settings, now=now)
    stopped: list[tuple[str, bool, datetime]] = []
    for done, row in enumerate(_rows(live, holders), start=1):
        if done % 50 == 0:
            scored(done)
        f = row.fields
        tx = TransactionIn(
            transaction_id=str(f["transaction_id"]),
            at=datetime.fromisoformat(str(f["tx_datetime"])),
            customer_id=str(f["customer_id"]),
            terminal_id=str(f["terminal_id"]),
            amount=str(f["tx_amount"]),
            currency="EUR",
            channel=str(f["channel"]),
        )
        out = service.score_transaction(db, engine, tx, limits, now=now)
        if out.decision != "approve":
            stopped.append((tx.transaction_id, f["tx_fraud"] == "1", tx.at))
    # Outcomes of the stopped payments more than a day old; the newer ones wait for an analyst.
    labelled = 0
    for transaction_id, fraud, at in stopped:
        if at > now - timedelta(days=1):
            continue
        outcome = LabelIn(
            label=LabelKind.FRAUD if fraud else LabelKind.GENUINE,
            known_at=min(now, at + timedelta(hours=6)).astimezone(UTC),
            source="review",
        )
        service.label_transaction(db, engine, transaction_id, outcome, actor="system:demo", now=now)
        labelled += 1
    echo(
        f"payments: {report.created} simulated payments stored with their outcomes, "
        f"{len(live)} scored in real time ({len(stopped)} stopped, {labelled} of those resolved); "
        f"the cards belong to {len(holders)} demo customers across the trust index"
    )
    return DemoPayments(report.created, len(live), labelled, len(stopped) - labelled)


def load_demo_step(platform: Platform, echo: DemoEcho) -> None:
    """`trustdesk demo`'s fraud step (see the manifest, `trustdesk.capabilities`)."""
    with echo.progress("payments: scoring the last two days in real time") as scored:
        payments = load_demo_payments(platform.db, platform.settings, echo, scored)
    if payments.already_there:
        echo("payments: the simulated payments are already there")
