"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

Chromium is the system package (/usr/bin/chromium), never a downloaded browser. Each test gets a
fresh migrated SQLite data directory (the `settings`/`platform` fixtures, pinned to SQLite here),
its own server and its own browser context, so no test sees another's users, cookies or throttles.
Set TRUSTDESK_E2E_SCREENSHOTS=<dir> to keep full-page screenshots for a look by eye.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from trustdesk.app import create_app
from trustdesk.platform import Platform

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def backend() -> str:
    """Browser tests run on SQLite only; the database paths are covered by the integration tests."""
    return "sqlite"


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` on a free loopback port in a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def serve(platform: Platform) -> Callable[..., AbstractContextManager[str]]:
    """`with serve(**setting_overrides) as url:` runs the app on this test's platform."""

    def start(**overrides: Any) -> AbstractContextManager[str]:
        settings = platform.settings.model_copy(update=overrides)
        return serving(create_app(settings, platform=platform))

    return start


@pytest.fixture
def live_server(serve: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    with serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh browser contexts (own cookies); all are closed after the test."""
    contexts: list[Any] = []

    def open_page(base_url: str, **context_options: Any) -> Any:
        context = browser.new_context(base_url=base_url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any], live_server: str) -> Any:
    return new_page(live_server)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Saves a full-page screenshot when TRUSTDESK_E2E_SCREENSHOTS names a folder; else nothing."""
    folder = os.environ.get("TRUSTDESK_E2E_SCREENSHOTS")

    def take(page: Any, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(Path(folder) / f"{request.node.name}-{name}.png"), full_page=True
            )

    return take
