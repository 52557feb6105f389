"""The leaders' trust gap as a one-page report: CSV (one row per dimension) and a printable HTML
page rendered to PDF with WeasyPrint (imported only when a PDF is asked for)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.csv_output import SafeWriter
from trustdesk.db import utcnow
from trustdesk.surveys.results import survey_results, trust_gap, trust_trend
from trustdesk.surveys.service import SurveyOut, load_survey

__all__ = [
    "CSV_COLUMNS",
    "GapReport",
    "gap_report",
    "report_csv",
    "report_pdf",
    "report_rows",
]

CSV_COLUMNS = (
    "dimension", "customers", "leaders", "gap", "ci_low", "ci_high", "n_customers", "n_leaders",
)  # fmt: skip


@dataclass(frozen=True)
class GapReport:
    survey: SurveyOut
    gap: list[dict[str, Any]]
    nps: dict[str, Any]
    leaders_nps: dict[str, Any]
    trend: list[dict[str, Any]]
    made_at: datetime


def gap_report(session: Session, survey_id: int) -> GapReport:
    survey = load_survey(session, survey_id)
    results = survey_results(session, survey_id)
    overall: dict[str, Any] = results["overall"]  # type: ignore[assignment]
    return GapReport(
        survey=survey,
        gap=trust_gap(session, survey_id),
        nps=overall["nps"],
        leaders_nps=results["leaders_predicted_nps"],  # type: ignore[arg-type]
        trend=trust_trend(session, survey.template or "trust-core"),
        made_at=utcnow(),
    )


def report_csv(report: GapReport) -> str:
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(report_rows(report))
    return buffer.getvalue()


def report_rows(report: GapReport) -> list[list[object]]:
    return [["" if row[k] is None else row[k] for k in CSV_COLUMNS] for row in report.gap]


def report_pdf(html: str) -> bytes:
    """The printable page as PDF (WeasyPrint needs Pango from the system: libpango-1.0-0)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
