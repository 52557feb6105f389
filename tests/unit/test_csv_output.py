"""CSV files TrustDesk writes cannot carry a formula into a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

import trustdesk
from trustdesk.csv_output import SafeDictWriter, SafeWriter, neutralise


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1 555 0100",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_a_cell_a_spreadsheet_would_evaluate_is_written_as_text(cell):
    assert neutralise(cell) == "'" + cell
    buffer = io.StringIO()
    SafeWriter(buffer).writerow(["id", cell, 3])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["id", "'" + cell, "3"]


@pytest.mark.parametrize("cell", ["plain", "-3.5", "+7", "1e-3", "-.5", "", "a=b", 12, -4.0, None])
def test_numbers_and_ordinary_text_are_left_as_they_are(cell):
    assert neutralise(cell) == cell


def test_the_dict_writer_neutralises_the_header_too_and_ignores_extra_keys():
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, ["=id", "value"])
    writer.writeheader()
    writer.writerow({"=id": "@x", "value": "ok", "extra": "=dropped"})
    assert buffer.getvalue().splitlines() == ["'=id,value", "'@x,ok"]


def test_every_csv_the_product_writes_goes_through_the_safe_writers():
    root = Path(trustdesk.__file__).parent
    raw = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\.to_csv\(")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "csv_output.py" and raw.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
