"""Text models over CSV files, no database: analyse, predict, and read labelled training data."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from trustdesk.csv_output import SafeDictWriter
from trustdesk.errors import InvalidInput
from trustdesk.feedback.analysis import (
    Analyser,
    TextModel,
    default_analyser,
    load_model,
    predict_best,
    predict_labels,
)
from trustdesk.tabular import Row, read_header, read_rows

__all__ = [
    "ANALYSIS_COLUMNS",
    "analyse_csv",
    "analyse_frame",
    "analyse_partitions",
    "analysis_fields",
    "predict_csv",
    "read_labelled",
]

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
            for row, extra in zip(rows, analysis_fields(analyser, texts), strict=True):
                writer.writerow({**row.fields, **extra})
            count += len(rows)
    return count


def analysis_fields(analyser: Analyser, texts: Sequence[str]) -> list[dict[str, str]]:
    """Per text, the analysis columns as written to a file (all empty for an empty text).

    The one piece of analysis code both engines run: on a chunk of the file (embedded) or on a
    partition inside a Dask worker (`analyse_frame`)."""
    result = analyser.analyse(texts)
    fields: list[dict[str, str]] = []
    for i, text in enumerate(texts):
        if not text.strip():
            fields.append(dict.fromkeys(ANALYSIS_COLUMNS, ""))
            continue
        p = result.probabilities[i]
        fields.append(
            {
                "sentiment": result.sentiment[i],
                "p_negative": f"{p[0]:.4f}",
                "p_neutral": f"{p[1]:.4f}",
                "p_positive": f"{p[2]:.4f}",
                "topics": ";".join(result.topics(i)),
            }
        )
    return fields


@lru_cache(maxsize=4)
def _worker_analyser(models: tuple[str, ...], data_dir: str | None) -> Analyser:
    """The analyser of a Dask worker process: its models loaded once, then kept. `data_dir` is
    the command's, so a worker uses the model versions activated there (`model activate`)."""
    analyser = default_analyser(Path(data_dir) if data_dir else None)
    for directory in models:
        analyser = analyser.with_model(load_model(Path(directory)))
    return analyser


def analyse_frame(
    frame: Any, text_column: str, models: tuple[str, ...] = (), data_dir: str | None = None
) -> Any:
    """Rows of the input (a pandas DataFrame of text columns) with the analysis columns added,
    analysed in the embedded path's chunks of _CHUNK rows (see `analyse_partitions`)."""
    texts = ["" if v is None else str(v) for v in frame[text_column].tolist()]
    analyser = _worker_analyser(models, data_dir)
    fields: list[dict[str, str]] = []
    for start in range(0, len(texts), _CHUNK):
        fields.extend(analysis_fields(analyser, texts[start : start + _CHUNK]))
    result = frame.copy()
    for column in ANALYSIS_COLUMNS:
        result[column] = [f[column] for f in fields]
    return result


_TASK_ROWS = 10 * _CHUNK
"""Rows per Dask task: a whole number of the embedded path's chunks."""


def _rows_of(parts: list[Any], pieces: list[tuple[int, int, int]]) -> Any:
    """Runs in a worker: rows [lo, hi) of partition i for each (i, lo, hi), as one frame."""
    import pandas as pd

    frames = [parts[i].iloc[lo:hi] for i, (_, lo, hi) in enumerate(pieces)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _task_pieces(lengths: list[int], task_rows: int) -> list[list[tuple[int, int, int]]]:
    """Cut the input, partition by partition, into tasks of `task_rows` consecutive rows (the
    last one shorter): per task, the (partition, first row, end row) slices it is made of."""
    tasks: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    room = task_rows
    for part, length in enumerate(lengths):
        row = 0
        while row < length:
            take = min(room, length - row)
            current.append((part, row, row + take))
            row += take
            room -= take
            if room == 0:
                tasks.append(current)
                current, room = [], task_rows
    if current:
        tasks.append(current)
    return tasks


def analyse_partitions(
    source: Path,
    output: Path,
    *,
    text_column: str,
    scheduler: str | None,
    models: Sequence[Path] = (),
    workers: int | None = None,
    data_dir: Path | None = None,
) -> int:
    """`analyse_csv` on a Dask cluster: the same columns and values, computed by workers.

    `source` is a CSV or Parquet file or a directory of partitions (read in name order, as if
    concatenated). The shipped transformer quantises each batch's activations, so a text's
    probabilities depend on the texts batched with it: the workers therefore analyse exactly
    the embedded path's chunks (rows 0-4999, 5000-9999, ... of the concatenated input) and the
    output is the embedded one, value for value. `output` is one CSV file (results stream
    through this process in order) or, when it has no suffix, a directory that receives one
    `part-NNNNN.csv` per task written by the workers themselves (the scale-out form: it must be
    reachable from every worker)."""
    from dask.delayed import delayed

    from trustdesk.dask_engine import dask_client, partition_files, read_partitions

    if output.resolve() in {p.resolve() for p in partition_files(source)}:
        raise InvalidInput("--output must differ from the input file")
    frame = read_partitions(source)
    header = [str(c) for c in frame.columns]
    if text_column not in header:
        raise InvalidInput(f"{source}: no column {text_column!r}")
    clash = [c for c in ANALYSIS_COLUMNS if c in header]
    if clash:
        raise InvalidInput(f"input already has column(s) {', '.join(clash)}")
    model_dirs = tuple(str(m.resolve()) for m in models)
    for directory in models:  # a bad model is named here, not in a worker's traceback
        load_model(directory)
    active_dir = str(data_dir.resolve()) if data_dir is not None else None
    columns = [*header, *ANALYSIS_COLUMNS]
    parts = frame.to_delayed()
    with dask_client(scheduler, workers=workers) as client:
        lengths = [int(n) for n in client.gather(client.compute([delayed(len)(p) for p in parts]))]
        tasks = []
        for pieces in _task_pieces(lengths, _TASK_ROWS):
            rows = delayed(_rows_of)([parts[i] for i, _, _ in pieces], pieces)
            tasks.append(delayed(analyse_frame)(rows, text_column, model_dirs, active_dir))
        if output.suffix == "":
            output.mkdir(parents=True, exist_ok=True)
            written = [
                delayed(_write_part)(task, output / f"part-{i:05d}.csv", columns)
                for i, task in enumerate(tasks)
            ]
            return sum(int(n) for n in client.gather(client.compute(written)))
        count = 0
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = SafeDictWriter(fh, columns)
            writer.writeheader()
            for future in client.compute(tasks):
                part = future.result()
                future.release()
                for row in part.to_dict("records"):
                    writer.writerow(row)
                count += len(part)
        return count


def _write_part(part: Any, path: Path, columns: list[str]) -> int:
    """Runs in a worker: analysed rows to their own CSV file (cells neutralised)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = SafeDictWriter(fh, columns)
        writer.writeheader()
        for row in part.to_dict("records"):
            writer.writerow(row)
    return len(part)


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
