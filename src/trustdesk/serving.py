"""The address customers reach TrustDesk at, for links made outside a request (`consent link`).

`TRUSTDESK_PUBLIC_URL` says it outright (the address behind a proxy or TLS terminator). Without
it, `trustdesk serve` records the address it listens on in the data directory, so a link made
from another terminal carries the port the server really uses, not the default.
"""

from __future__ import annotations

from trustdesk.config import Settings
from trustdesk.private_files import write_private

__all__ = ["ADDRESS_FILE", "public_base_url", "record_address"]

ADDRESS_FILE = "server.url"
_ANY = {"", "0.0.0.0", "::"}  # noqa: S104 - recognised, not bound


def _url(host: str, port: int) -> str:
    host = "127.0.0.1" if host in _ANY else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def record_address(settings: Settings, host: str, port: int) -> None:
    """Called by `trustdesk serve` before it starts listening."""
    write_private(settings.data_dir / ADDRESS_FILE, (_url(host, port) + "\n").encode())


def public_base_url(settings: Settings) -> str:
    """TRUSTDESK_PUBLIC_URL, else the address the last `trustdesk serve` used, else host:port."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    try:
        recorded = (settings.data_dir / ADDRESS_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        recorded = ""
    return recorded or _url(settings.host, settings.port)
