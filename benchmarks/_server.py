"""What the HTTP benchmarks share: a real `trustdesk serve` on a free port of 127.0.0.1 (started,
waited for until GET /healthz answers, stopped), and open-loop latency sampling at a target
rate with its p50/p95/p99.

    with serve(data_dir, env={"TRUSTDESK_JOBS_IN_SERVER": "false"}) as server:
        health = paced(server.port, [request("GET", "/healthz")], rate=300, count=900)
    print(f"GET /healthz: p50 {health.p(0.5):.1f} ms, p99 {health.p(0.99):.1f} ms")

Benchmarks import it as `from _server import ...` (they run as scripts, from this folder).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["FORM", "Sample", "Server", "free_port", "paced", "pct", "request", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    process: subprocess.Popen[bytes]
    started_s: float  # from launch to the first healthy answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def trustdesk_serve(port: int, *args: str) -> list[str]:
    """`trustdesk serve` of this interpreter's environment on 127.0.0.1:port."""
    exe = Path(sys.executable).with_name("trustdesk")
    return [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), *args]


@contextmanager
def serve(
    data_dir: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Callable[[int], Sequence[str]] | None = None,
    inherit_trustdesk_env: bool = True,
    start_timeout: float = 300.0,
) -> Iterator[Server]:
    """A server on a free port with TRUSTDESK_DATA_DIR=data_dir, TRUSTDESK_LOG_LEVEL=WARNING and
    `env` on top of this process's environment (without its TRUSTDESK_* variables when
    `inherit_trustdesk_env` is false); `trustdesk serve ... *args`, or `command(port)`. Its output
    goes to a log whose tail is shown if it does not come up within `start_timeout` seconds (a
    loaded machine starts it slowly: minutes, with other work on two cores). Stopped (SIGTERM, then SIGKILL after 30 s) on leaving."""
    port = free_port()
    base = {
        k: v
        for k, v in os.environ.items()
        if inherit_trustdesk_env or not k.startswith("TRUSTDESK_")
    }
    full_env = {
        **base,
        "TRUSTDESK_DATA_DIR": str(data_dir),
        "TRUSTDESK_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    argv = list(command(port)) if command else trustdesk_serve(port, *args)
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    if answer.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                code = process.poll()
                if time.monotonic() > deadline or code is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    why = (
                        f"exited ({code})"
                        if code is not None
                        else f"no answer in {start_timeout:.0f} s"
                    )
                    raise SystemExit(f"the server did not start ({why}):\n{tail}")
                time.sleep(0.1)
            yield Server(port, process, time.perf_counter() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


FORM = "application/x-www-form-urlencoded"


def request(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> bytes:
    """One HTTP/1.1 keep-alive request, as bytes for `paced`."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    if body or method not in ("GET", "HEAD"):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _Connection:
    """A minimal keep-alive HTTP/1.1 client connection: cheap enough that the client, sharing the
    machine's cores with the server, does not become the bottleneck (httpx costs ~1 ms of CPU per
    request, which at 500 requests/s would take half a core from the server)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> int:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = 0, False
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            await self.reader.readexactly(length)
            return status
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            await self.reader.readexactly(size + 2)
        await self.reader.readline()
        return status


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 < q < 1) of `values`."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000)[round(q * 1000) - 1]


@dataclass
class Sample:
    """Latencies (ms, from each request's scheduled start) of one paced run."""

    latencies: list[float]
    achieved: float  # requests started per second
    statuses: list[int] = field(default_factory=list)
    errors: int = 0  # answers not among the expected statuses

    def p(self, q: float) -> float:
        return pct(self.latencies, q)


Request = bytes | Callable[[], bytes]


def paced(
    port: int,
    requests: Sequence[Request],
    *,
    rate: float,
    count: int | None = None,
    connections: int = 32,
    warmup: int = 0,
    ok: Sequence[int] = (200,),
    strict: bool = True,
) -> Sample:
    """Open loop: request i (cycling through `requests`, `count` of them, default one each)
    is due at i/rate s whatever the earlier ones do, and waits for a free one of `connections`
    keep-alive connections (that wait counts as latency). A request may be a function making its
    bytes when due. `warmup` requests go first, one at a time, unmeasured. With `strict`, any
    answer whose status is not in `ok` ends the benchmark."""
    return asyncio.run(_paced(port, requests, rate, count, connections, warmup, ok, strict))


async def _paced(
    port: int,
    requests: Sequence[Request],
    rate: float,
    count: int | None,
    connections: int,
    warmup: int,
    ok: Sequence[int],
    strict: bool,
) -> Sample:
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection(*await asyncio.open_connection("127.0.0.1", port)))
    sample = Sample([], 0.0)

    async def one(item: Request, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        status = await conn.send(item() if callable(item) else item)
        sample.latencies.append((time.perf_counter() - due) * 1000)
        idle.put_nowait(conn)
        sample.statuses.append(status)
        sample.errors += status not in ok

    for i in range(warmup):
        await one(requests[i % len(requests)], time.perf_counter())
    sample.latencies.clear()
    sample.statuses.clear()
    sample.errors = 0
    total = len(requests) if count is None else count
    begin = time.perf_counter() + 0.05
    tasks = [
        asyncio.create_task(one(requests[i % len(requests)], begin + i / rate))
        for i in range(total)
    ]
    await asyncio.gather(*tasks)
    sample.achieved = total / (time.perf_counter() - begin)
    while not idle.empty():
        idle.get_nowait().writer.close()
    if strict and sample.errors:
        bad = next(s for s in sample.statuses if s not in ok)
        raise SystemExit(f"{sample.errors} of {total} requests failed (e.g. HTTP {bad})")
    return sample
