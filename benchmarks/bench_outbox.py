"""Outbox email throughput to a local SMTP server, against raw smtplib in the same run.

A counting aiosmtpd server runs in a process of its own on 127.0.0.1. Baseline: the same
messages, built beforehand, sent with `smtplib.SMTP.sendmail` over one reused connection, no
database (the SMTP conversation alone). Outbox: customers with
encrypted emails, notices enqueued in one transaction, then `deliver_due(until_empty=True)`:
claim, decrypt address and body at send time, two-phase DATA with a commit before each round's
final dots, outcomes recorded. Target (issue 12): >= 500 emails/s.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _server import free_port

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.customers import service as customer_service
from trustdesk.customers.public import customer_ids
from trustdesk.customers.schemas import CustomerIn
from trustdesk.outbox import public as outbox
from trustdesk.outbox.smtp import build_email
from trustdesk.platform import Platform

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
N = 2_000 if QUICK else 10_000
TEXT = (
    "Dear customer,\n\nOn 1 March we found that an attacker had copied records from our payments "
    "system. Your name, email address and card number were among them.\n\n" * 3
)


def serve(port: int) -> None:
    """The SMTP server process: accept and count, keep nothing."""
    from aiosmtpd.controller import Controller

    class Counter:
        count = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            Counter.count += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        asyncio.run(asyncio.sleep(3600))
    finally:
        controller.stop()


CPU: dict[str, float] = {}


def baseline(port: int, addresses: list[str]) -> float:
    """The SMTP conversation alone: the same messages, built beforehand, `sendmail` on one
    reused connection (what a script without an outbox would do)."""
    messages = [
        build_email(
            from_address="Acme <trust@acme.test>",
            to=(None, address),
            subject="About your account",
            text=TEXT,
            html=None,
            message_id=f"<{i}.baseline@acme.test>",
        )
        for i, address in enumerate(addresses)
    ]
    start, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for address, data in zip(addresses, messages, strict=True):
            smtp.sendmail("trust@acme.test", [address], data)
    CPU["baseline"] = (time.process_time() - cpu) / len(addresses)
    return len(addresses) / (time.perf_counter() - start)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--server":
        serve(int(sys.argv[2]))
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--server", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                environment="test",
                log_level="WARNING",
                smtp_port=port,
                smtp_from="Acme <trust@acme.test>",
            )
            platform = Platform.open(settings)
            migrate.upgrade(platform.db)
            records = [
                CustomerIn(external_id=f"c{i}", name=f"Customer {i}", email=f"c{i}@example.org")
                for i in range(N)
            ]
            with platform.db.transaction() as session:
                customer_service.upsert_customers(session, platform.vault, records, actor="bench")
                ids = customer_ids(session, [r.external_id for r in records])
            start = time.perf_counter()
            with platform.db.transaction() as session:
                outbox.enqueue_emails(
                    session,
                    platform.vault,
                    [
                        outbox.Email(
                            "incident.notice",
                            f"i:1:{cid}",
                            "About your account",
                            TEXT,
                            customer_id=cid,
                        )
                        for cid in ids.values()
                    ],
                )
            enqueue_rate = N / (time.perf_counter() - start)
            base = baseline(port, [r.email or "" for r in records])
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.enable()
            cpu = time.process_time()
            report = outbox.deliver_due(platform, until_empty=True)
            CPU["outbox"] = (time.process_time() - cpu) / N
            if os.environ.get("BENCH_PROFILE"):
                prof.disable()
                pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            assert report.sent == N, report
            rate = N / report.seconds
            platform.close()
    finally:
        server.terminate()
        server.wait()
    print(f"messages: {N} to a local aiosmtpd server (own process)")
    print(f"enqueue (encrypt under each customer's key): {enqueue_rate:,.0f} messages/s")
    print(f"baseline raw smtplib, one connection, no database: {base:,.0f} emails/s")
    print(
        f"outbox deliver_due: {rate:,.0f} emails/s = {rate / base:.2f}x the baseline "
        f"(target >= 500/s: {'met' if rate >= 500 else 'NOT met'})"
    )
    print(
        f"client CPU per email: outbox {CPU['outbox'] * 1e6:,.0f} us, baseline "
        f"{CPU['baseline'] * 1e6:,.0f} us; one core's worth of outbox CPU = "
        f"{1 / CPU['outbox']:,.0f} emails/s (the rest of the wall time is the server and the load)"
    )


if __name__ == "__main__":
    main()
