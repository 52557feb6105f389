"""CSV downloads of the trust overview and the alerts, linked from those pages.

Same permission and filters as the pages; cells are formula-safe (`web/downloads.py`).
"""

from __future__ import annotations

from fastapi import Depends, Query
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, get_platform, require_page
from trustdesk.platform import Platform
from trustdesk.trust import alert_reads, exports, score_reads, service
from trustdesk.web.downloads import csv_download
from trustdesk.web.nav import Section
from trustdesk.web.routing import page_router

__all__ = ["ALERT_EXPORT_LIMIT", "router", "section"]

ALERT_EXPORT_LIMIT = 10_000
_KINDS = ("trust_drop", "topic_surge")

router = page_router(prefix="/trust")
section = Section(router=router)  # downloads only: the menu entries are the pages'


@router.get("/overview.csv")
def overview_csv(
    *,
    _: Principal = Depends(require_page("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    found = score_reads.overview(session, service.TrustParams.from_settings(platform.settings))
    return csv_download(
        "trust-overview.csv", exports.overview_header(), exports.overview_rows(found)
    )


@router.get("/alerts.csv")
def alerts_csv(
    *,
    state: str = Query("", max_length=16),
    kind: str = Query("", max_length=24),
    segment: str = Query("", max_length=120),
    _: Principal = Depends(require_page("trust:read")),
    session: ReadSession,
) -> Response:
    alerts = alert_reads.list_alerts(
        session,
        segment=segment.strip() or None,
        kind=kind if kind in _KINDS else None,
        acknowledged={"open": False, "acknowledged": True}.get(state),
        limit=ALERT_EXPORT_LIMIT,
    )
    return csv_download("trust-alerts.csv", exports.ALERT_HEADER, exports.alert_rows(alerts))
