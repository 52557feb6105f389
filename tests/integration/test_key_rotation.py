"""Master-key rotation while a real server keeps creating and reading customers.

The server runs as its own process (`trustdesk serve`); several clients create customers while
`keys rotate-master` runs in another process; every customer must then read back through the
API and the CLI, before and after a server restart, and the server never answers 500. A rotation
killed with SIGKILL mid re-wrap leaves everything readable and finishes when run again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from trustdesk.access.roles import Role
from trustdesk.config import Settings

TRUSTDESK = [str(Path(sys.executable).with_name("trustdesk"))]


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTDESK_")}
    env.update(
        TRUSTDESK_DATA_DIR=str(settings.data_dir),
        TRUSTDESK_LOG_LEVEL="WARNING",
        TRUSTDESK_COOKIE_SECURE="false",
        TRUSTDESK_ENVIRONMENT="test",
    )
    if settings.database_url:
        env["TRUSTDESK_DATABASE_URL"] = settings.database_url
    return env


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRUSTDESK, *args], env=_env(settings), capture_output=True, text=True, timeout=300
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(settings: Settings, token: str) -> Iterator[httpx.Client]:
    port = _free_port()
    proc = subprocess.Popen(
        [*TRUSTDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/api/v1/customers?limit=1")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(proc.stderr.read().decode()[-3000:]) from None
                    time.sleep(0.2)
            yield client
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _customer(ext: str) -> dict[str, str]:
    return {
        "external_id": ext,
        "name": f"Name {ext}",
        "email": f"{ext}@example.com",
        "segments": ["retail"],
        "jurisdiction": "GB",
    }


def _status(settings: Settings) -> dict:
    result = _run(settings, "keys", "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _reads_back(settings: Settings, client: httpx.Client, ids: list[str]) -> None:
    for ext in ids:
        answer = client.get(f"/api/v1/customers/{ext}")
        assert answer.status_code == 200, (ext, answer.text)
        assert answer.json()["email"] == f"{ext}@example.com"
    cursor, listed = 0, set()
    while True:
        page = client.get(f"/api/v1/customers?limit=500&cursor={cursor}")
        assert page.status_code == 200, page.text
        listed |= {c["external_id"] for c in page.json()["items"]}
        if page.json()["next_cursor"] is None:
            break
        cursor = page.json()["next_cursor"]
    assert set(ids) <= listed
    for ext in (ids[0], ids[len(ids) // 2], ids[-1]):
        shown = _run(settings, "customers", "show", ext, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["email"] == f"{ext}@example.com"


def test_rotation_under_load_loses_nothing_and_never_answers_500(settings, token_for, tmp_path):
    token = token_for(Role.ADMIN)
    seed = [f"seed-{i}" for i in range(150)]
    rows = tmp_path / "seed.csv"
    rows.write_text(
        "external_id,name,email,phone,segment,jurisdiction\n"
        + "".join(f"{e},Name {e},{e}@example.com,,retail,GB\n" for e in seed)
    )
    assert _run(settings, "customers", "import", str(rows)).returncode == 0
    old_key = _status(settings)["current"]
    created: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    with _server(settings, token) as client:

        def create(worker: int) -> None:
            i = 0
            with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=60) as c:
                while not stop.is_set():
                    ext = f"load-{worker}-{i}"
                    answer = c.put(f"/api/v1/customers/{ext}", json=_customer(ext))
                    if answer.status_code != 201:
                        failures.append(f"PUT {ext}: {answer.status_code} {answer.text[:200]}")
                    else:
                        created.append(ext)
                    read = c.get(f"/api/v1/customers/{seed[i % len(seed)]}")
                    if read.status_code != 200:
                        failures.append(f"GET: {read.status_code} {read.text[:200]}")
                    i += 1

        workers = [threading.Thread(target=create, args=(w,)) for w in range(4)]
        for w in workers:
            w.start()
        time.sleep(1.0)
        rotation = _run(settings, "keys", "rotate-master", "--batch-size", "50")
        time.sleep(1.0)  # keep creating under the new key
        stop.set()
        for w in workers:
            w.join()
        assert rotation.returncode == 0, rotation.stderr
        assert "retired master key" in rotation.stdout
        assert not failures, failures[:5]
        assert len(created) > 20
        status = _status(settings)
        assert status["current"] != old_key and status["rotation"] == "idle"
        assert [k["id"] for k in status["keys"] if k["in_key_store"]] == [status["current"]]
        _reads_back(settings, client, seed + created)
    with _server(settings, token) as client:  # after a restart
        _reads_back(settings, client, seed + created)


def test_a_rotation_killed_mid_rewrap_leaves_data_readable_and_resumes(
    settings, token_for, tmp_path
):
    token = token_for(Role.ADMIN)
    ids = [f"c-{i}" for i in range(120)]
    rows = tmp_path / "c.csv"
    rows.write_text(
        "external_id,name,email,phone,segment,jurisdiction\n"
        + "".join(f"{e},Name {e},{e}@example.com,,retail,GB\n" for e in ids)
    )
    assert _run(settings, "customers", "import", str(rows)).returncode == 0
    old_key = _status(settings)["current"]
    rotation = subprocess.Popen(
        [*TRUSTDESK, "keys", "rotate-master", "--batch-size", "1", "--pause-ms", "300"],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    keystore = create_engine(settings.effective_keystore_url)  # watched directly: cheap
    deadline = time.monotonic() + 240
    while True:
        with keystore.connect() as conn:
            counts = dict(
                conn.execute(
                    text(
                        "SELECT master_key_id, count(*) FROM data_keys "
                        "WHERE wrapped IS NOT NULL GROUP BY master_key_id"
                    )
                ).all()
            )
        if len(counts) == 2 and counts.get(old_key, 0) > 10:
            break  # half way through the re-wrap
        assert time.monotonic() < deadline and rotation.poll() is None, counts
        time.sleep(0.05)
    keystore.dispose()
    rotation.send_signal(signal.SIGKILL)
    rotation.wait()
    status = _status(settings)
    assert status["rotation"] == "in progress" and status["pending_rewraps"] > 0
    with _server(settings, token) as client:  # a half-rotated store serves every customer
        _reads_back(settings, client, ids)
        resumed = _run(settings, "keys", "rotate-master")
        assert resumed.returncode == 0, resumed.stderr
        assert "resumed rotation" in resumed.stdout and f"retired master key {old_key}" in (
            resumed.stdout
        )
        _reads_back(settings, client, ids)
    status = _status(settings)
    assert status["rotation"] == "idle" and status["pending_rewraps"] == 0
    key_file = Path(settings.data_dir) / "master.key"
    assert len([line for line in key_file.read_text().splitlines() if line.strip()]) == 1
