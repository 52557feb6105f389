"""CSV downloads from pages: formula-safe cells (`csv_output`), a file name, never cached."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import Response

from trustdesk.csv_output import SafeWriter

__all__ = ["csv_download"]


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV attachment named `filename` (UTF-8 with a BOM, so spreadsheets read accents)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = SafeWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
