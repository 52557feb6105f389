"""Text models over CSV files, no database: analyse, predict, and read labelled training data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from trustdesk.csv_output import SafeDictWriter
from trustdesk.errors import InvalidInput
from trustdesk.feedback.analysis import Analyser, TextModel, predict_best, predict_labels
from trustdesk.tabular import Row, read_header, read_rows

__all__ = ["ANALYSIS_COLUMNS", "analyse_csv", "predict_csv", "read_labelled"]

ANALYSIS_COLUMNS = ("sentiment", "p_negative", "p_neutral", "p_positive", "topics")
_CHUNK = 5000


def _chunks(path: Path, text_column: str) -> Iterator[tuple[list[str], list[Row]]]:
    """Rows in chunks with the header; the header is taken from the first row's keys."""
    chunk: list[Row] = []
    for row in read_rows(path, required=(text_column,)):
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            yield list(chunk[0].fields), chunk
            chunk = []
    if chunk:
        yield list(chunk[0].fields), chunk


def _text(row: Row, column: str) -> str:
    value = row.fields.get(column)
    return value if isinstance(value, str) and not row.error else ""


def analyse_csv(source: Path, output: Path, analyser: Analyser, *, text_column: str) -> int:
    """Write every input column plus sentiment, its probabilities and `;`-separated topics."""
    if source.resolve() == output.resolve():
        raise InvalidInput("--output must differ from the input file")
    count = 0
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer: SafeDictWriter | None = None
        for columns, rows in _chunks(source, text_column):
            if writer is None:
                header = read_header(source) if source.suffix == ".csv" else columns
                clash = [c for c in ANALYSIS_COLUMNS if c in header]
                if clash:
                    raise InvalidInput(f"input already has column(s) {', '.join(clash)}")
                writer = SafeDictWriter(fh, [*header, *ANALYSIS_COLUMNS])
                writer.writeheader()
            texts = [_text(r, text_column) for r in rows]
            result = analyser.analyse(texts)
            for i, row in enumerate(rows):
                extra: dict[str, object] = dict.fromkeys(ANALYSIS_COLUMNS, "")
                if texts[i].strip():
                    p = result.probabilities[i]
                    extra = {
                        "sentiment": result.sentiment[i],
                        "p_negative": f"{p[0]:.4f}",
                        "p_neutral": f"{p[1]:.4f}",
                        "p_positive": f"{p[2]:.4f}",
                        "topics": ";".join(result.topics(i)),
                    }
                writer.writerow({**row.fields, **extra})
            count += len(rows)
    return count


def predict_csv(source: Path, output: Path, model: TextModel, *, text_column: str) -> int:
    """Write every input column plus `label` (multi-label models: `;`-separated labels) and, for
    single-label models, `probability` (of that label; empty where the text is empty)."""
    if source.resolve() == output.resolve():
        raise InvalidInput("--output must differ from the input file")
    count = 0
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer: SafeDictWriter | None = None
        for columns, rows in _chunks(source, text_column):
            if writer is None:
                header = read_header(source) if source.suffix == ".csv" else columns
                added = ["label"] if model.meta.multilabel else ["label", "probability"]
                clash = [c for c in added if c in header]
                if clash:
                    raise InvalidInput(f"input already has column(s) {', '.join(clash)}")
                writer = SafeDictWriter(fh, [*header, *added])
                writer.writeheader()
            texts = [_text(r, text_column) for r in rows]
            if model.meta.multilabel:
                for row, label in zip(rows, predict_labels(model, texts), strict=True):
                    writer.writerow({**row.fields, "label": label})
            else:
                for row, text, (label, p) in zip(
                    rows, texts, predict_best(model, texts), strict=True
                ):
                    extra = {"label": label, "probability": f"{p:.4f}"} if text.strip() else {}
                    writer.writerow({**row.fields, "label": "", "probability": "", **extra})
            count += len(rows)
    return count


def read_labelled(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    split_column: str | None = None,
    exclude: frozenset[str] = frozenset(),
    keep_empty_labels: bool = False,
) -> tuple[list[str], list[str], list[str] | None]:
    """Texts, labels and optional split keys of the usable rows (text present, label wanted)."""
    required = (text_column, label_column, *([split_column] if split_column else []))
    texts: list[str] = []
    labels: list[str] = []
    keys: list[str] = []
    for row in read_rows(path, required=required):
        text = _text(row, text_column).strip()
        label = str(row.fields.get(label_column) or "").strip()
        if not text or label in exclude or (not label and not keep_empty_labels):
            continue
        texts.append(text)
        labels.append(label)
        if split_column:
            keys.append(str(row.fields.get(split_column) or ""))
    return texts, labels, (keys if split_column else None)
