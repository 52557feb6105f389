"""Mixed concurrent writers against a running TrustDesk server, and the check that every write the
server acknowledged is stored.

Four kinds of write, as a busy deployment sends them at once: consent changes (two hash chains:
the consent ledger and the audit trail), payment scoring (the fraud scorer's lock), customer
upserts and feedback posts (audited). Each client is one keep-alive connection that sends one
request at a time, cycling through the kinds from a different starting point, until the time is
up. Used by the load test (tests/integration/test_mixed_writes.py) and the benchmark
(benchmarks/bench_mixed_writes.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from trustdesk.customers.models import Customer
from trustdesk.db import Database
from trustdesk.feedback.models import Feedback
from trustdesk.fraud.models import FraudTransaction
from trustdesk.privacy.models import ConsentEvent

__all__ = ["KINDS", "Outcome", "Run", "missing_writes", "run_mix", "seed_customers"]

KINDS = ("consent", "score", "customer", "feedback")
_WORDS = (
    "refund was quick and the staff were kind",
    "card declined twice at the till, very annoying",
    "app keeps logging me out",
    "great service, honest answers",
)


@dataclass(frozen=True)
class Outcome:
    """One request: its kind, status (0: the client timed out or lost the connection), latency
    and the key by which the write is found stored afterwards."""

    kind: str
    status: int
    seconds: float
    key: str | int | None = None


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status >= 500]

    @property
    def timeouts(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 0]

    @property
    def acknowledged(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]


def _customer_id(client: int) -> str:
    return f"load-{client}"


def seed_customers(base_url: str, token: str, clients: int) -> None:
    """One customer per client, for its consent changes (consent needs a known customer)."""
    with httpx.Client(base_url=base_url, headers=_auth(token), timeout=30) as http:
        for n in range(clients):
            cid = _customer_id(n)
            answer = http.put(
                f"/api/v1/customers/{cid}", json={"external_id": cid, "jurisdiction": "DE"}
            )
            answer.raise_for_status()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _one(http: httpx.AsyncClient, kind: str, client: int, n: int) -> Outcome:
    tag = f"c{client}-{n}"
    now = datetime.now(UTC)
    method, path, body, key = "POST", "", dict[str, Any](), None
    if kind == "consent":
        path = "/api/v1/consent"
        state = "granted" if n % 2 else "withdrawn"  # a change every time: a new ledger event
        body = {
            "customer_id": _customer_id(client),
            "purpose": "marketing",
            "channel": "email",
            "state": state,
        }
    elif kind == "score":
        path, key = "/api/v1/transactions/score", f"load-tx-{tag}"
        body = {
            "transaction_id": key,
            "at": (now - timedelta(seconds=1)).isoformat(),
            "customer_id": f"card-{client % 7}",
            "terminal_id": f"term-{n % 11}",
            "amount": f"{10 + n % 90}.50",
        }
    elif kind == "customer":
        key = f"load-up-{tag}"
        method, path = "PUT", f"/api/v1/customers/{key}"
        body = {"external_id": key, "segments": ["retail"], "jurisdiction": "GB"}
    else:
        path = "/api/v1/feedback"
        body = {
            "source": "load",
            "external_id": tag,
            "at": now.isoformat(),
            "text": _WORDS[n % len(_WORDS)],
        }
    start = time.perf_counter()
    try:
        answer = await http.request(method, path, json=body)
    except httpx.HTTPError:  # timed out, or the server dropped the connection
        return Outcome(kind, 0, time.perf_counter() - start, key)
    seconds = time.perf_counter() - start
    if kind in {"consent", "feedback"} and answer.status_code < 300:
        key = int(answer.json()["id"])
    return Outcome(kind, answer.status_code, seconds, key)


async def _client(
    base_url: str, token: str, client: int, kinds: Sequence[str], until: float, timeout_s: float
) -> list[Outcome]:
    out: list[Outcome] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=_auth(token), timeout=timeout_s, limits=limits
    ) as http:
        n = 0
        while time.monotonic() < until:
            out.append(await _one(http, kinds[(client + n) % len(kinds)], client, n))
            n += 1
    return out


async def _run(
    base_url: str, token: str, clients: int, seconds: float, kinds: Sequence[str], timeout: float
) -> Run:
    start = time.monotonic()
    until = start + seconds
    parts = await asyncio.gather(
        *(_client(base_url, token, c, kinds, until, timeout) for c in range(clients))
    )
    return Run([o for part in parts for o in part], time.monotonic() - start)


def run_mix(
    base_url: str,
    token: str,
    *,
    clients: int = 20,
    seconds: float = 8.0,
    kinds: Sequence[str] = KINDS,
    timeout_s: float = 10.0,
) -> Run:
    """`clients` keep-alive connections writing for `seconds` (each request at most `timeout_s`;
    the run ends at most `timeout_s` after `seconds`). The clients' event loop runs in a thread of
    its own: the caller's thread may hold another library's loop (Playwright's synchronous API)."""
    out: list[Run] = []
    thread = threading.Thread(
        target=lambda: out.append(
            asyncio.run(_run(base_url, token, clients, seconds, kinds, timeout_s))
        )
    )
    thread.start()
    thread.join(seconds + timeout_s + 60)
    if not out:
        raise RuntimeError("the load run failed or did not finish; see the thread's traceback")
    return out[0]


def missing_writes(database_url: str, run: Run) -> dict[str, list[str | int]]:
    """Every acknowledged write looked up in the database: what is missing, by kind."""
    lookups: dict[str, Any] = {
        "consent": ConsentEvent.id,
        "score": FraudTransaction.transaction_id,
        "customer": Customer.external_id,
        "feedback": Feedback.id,
    }
    missing: dict[str, list[str | int]] = {}
    db = Database(database_url)
    try:
        with db.reading() as session:
            for kind, column in lookups.items():
                keys = [o.key for o in run.acknowledged if o.kind == kind]
                found: set[Any] = set()
                for i in range(0, len(keys), 500):
                    chunk = keys[i : i + 500]
                    found.update(session.scalars(select(column).where(column.in_(chunk))))
                lost = [k for k in keys if k not in found]
                if lost:
                    missing[kind] = lost
    finally:
        db.dispose()
    return missing
