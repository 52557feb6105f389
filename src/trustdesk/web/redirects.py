"""Where a page may send the browser next: only paths on this site, never another host."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from starlette.requests import Request

__all__ = ["login_url", "safe_next"]


def safe_next(raw: str | None, default: str = "/") -> str:
    """`raw` if it is a relative path on this site, else `default` (no open redirects)."""
    if not raw or not raw.startswith("/") or raw.startswith("//"):
        return default
    if "\\" in raw or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return default  # browsers read "/\evil.com" as "//evil.com"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return default
    return raw


def login_url(request: Request) -> str:
    """The login page, asking to come back to the page that was requested."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if target == "/":
        return "/login"
    return "/login?next=" + quote(safe_next(target), safe="")
