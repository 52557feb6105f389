"""The server under mixed concurrent writes: a real uvicorn server on 127.0.0.1, 20 keep-alive
clients for 8 s sending consent changes, payment scoring, customer upserts and feedback posts at
once. Nothing may freeze (no client time-out), fail (no 5xx) or be lost (every 2xx is stored).
The figures (p99, writes/s, the audit chain's cost) are in benchmarks/bench_mixed_writes.py."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from tests.mixed_writes import KINDS, missing_writes, run_mix, seed_customers

from trustdesk.access.roles import Role
from trustdesk.app import create_app

CLIENTS = 20
SECONDS = 8.0
TIMEOUT_S = 20.0  # a frozen server shows as time-outs all the same (busy timeout: 30 s)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` on a free loopback port, served by uvicorn from a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_mixed_concurrent_writers_never_freeze_fail_or_lose_a_write(platform, token_for):
    token = token_for(Role.ADMIN)
    with serving(create_app(platform=platform)) as url:
        seed_customers(url, token, CLIENTS)
        run = run_mix(url, token, clients=CLIENTS, seconds=SECONDS, timeout_s=TIMEOUT_S)
    done = {kind: sum(1 for o in run.of(kind) if o.status < 300) for kind in KINDS}
    assert not run.timeouts, f"{len(run.timeouts)} client time-outs; completed: {done}"
    assert not run.server_errors, [(o.kind, o.status) for o in run.server_errors[:10]]
    rejected = [(o.kind, o.status) for o in run.outcomes if o.status >= 300]
    assert not rejected, rejected[:10]
    # Every kind made progress alongside the others (none starved by the rest).
    assert all(done[kind] > 0 for kind in KINDS), done
    assert missing_writes(platform.settings.effective_database_url, run) == {}


def _exchange(sock: socket.socket, path: str, token: str) -> tuple[int, str, bytes]:
    """One HTTP/1.1 request on an open keep-alive socket: (status, content type, body)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {k.lower(): v for k, v in headers.items()}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        body += chunk
    return int(lines[0].split()[1]), headers.get("content-type", ""), body


def test_an_unexpected_error_answers_problem_json_and_keeps_the_connection(
    platform, token_for, backend
):
    if backend != "sqlite":
        return  # the server's connection handling is the same on both
    token = token_for(Role.ADMIN)
    app = create_app(platform=platform)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/broken", broken)
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            status, kind, body = _exchange(sock, "/api/v1/broken", token)
            assert status == 500 and kind == "application/problem+json"
            assert b"Internal error" in body and b"a bug" not in body
            # The same connection serves the next request.
            status, _, body = _exchange(sock, "/healthz", token)
            assert status == 200 and b'"ok"' in body
