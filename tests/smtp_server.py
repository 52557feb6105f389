"""A real SMTP server for tests (aiosmtpd in a thread of its own) that counts what it accepts.

    server = SmtpServer().start()
    ... deliver to 127.0.0.1:server.port ...
    server.count_for("a@example.org") == 1
    server.stop()

`refuse_rcpt[address] = "550 5.1.1 no such user"` refuses a recipient; `refuse_data` the same
after the message's final "."; `messages` keeps each accepted message (envelope recipients,
bytes). Use the `smtp_server` fixture in tests/conftest.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    recipients: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_data: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self.refuse_data[address]
        data = envelope.original_content or envelope.content
        with self.lock:
            self.messages.append(Received(tuple(envelope.rcpt_tos), bytes(data)))
            self.counts.update(envelope.rcpt_tos)
            n = len(self.messages)
        return f"250 2.0.0 Ok: queued as T{n}"


class SmtpServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def refuse_rcpt(self) -> dict[str, str]:
        return self.handler.refuse_rcpt

    @property
    def refuse_data(self) -> dict[str, str]:
        return self.handler.refuse_data

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def total(self) -> int:
        with self.handler.lock:
            return len(self.handler.messages)

    def counts(self) -> Counter[str]:
        with self.handler.lock:
            return Counter(self.handler.counts)

    def count_for(self, address: str) -> int:
        with self.handler.lock:
            return self.handler.counts[address]

    def wait_for(self, total: int, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.total >= total:
                return True
            time.sleep(0.01)
        return False
