"""The access export as an HTTP download: staff API, staff pages and the preference centre."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from trustdesk.privacy.export.archive import Export, to_zip

__all__ = ["zip_download"]


def zip_download(export: Export, filename: str, headers: Mapping[str, str] = {}) -> Response:
    """A ZIP attachment that no cache keeps (it holds the customer's decrypted data)."""
    return Response(
        to_zip(export),
        media_type="application/zip",
        headers={
            **(headers or {}),
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
