"""Reading CSV/JSONL input: every malformed record becomes a numbered rejected row, the rows
around it are read, and only an unreadable file fails as a whole."""

from __future__ import annotations

import gzip
from importlib.resources import as_file, files

import pytest

from trustdesk import tabular
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.tabular import read_header, read_rows


def _rows(path, **kwargs):
    return [(r.number, r.fields.get("id"), r.error) for r in read_rows(path, **kwargs)]


def _ids(path, **kwargs):
    return [r.fields["id"] for r in read_rows(path, **kwargs) if not r.error]


def test_a_quote_left_open_to_the_end_costs_its_own_line_only(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,name\na,"Ada\nb,Bob\nc,Cy\n')
    rows = _rows(path)
    assert rows[0][:2] == (1, None) and "(lines 2-4)" in rows[0][2]
    assert "quote" in rows[0][2]
    assert [r[1] for r in rows[1:]] == ["b", "c"]


def test_a_quote_closed_rows_later_costs_its_own_line_only(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,name\na,"Ada\nb,"Bob"\nc,Cy\n')
    assert _ids(path) == ["b", "c"]


def test_a_line_break_in_a_single_line_column_is_rejected_and_the_lines_read_again(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,text\nx,"two\nlines"\n"a\nb",c\n')
    assert _ids(path, single_line=("text",)) == ["a\nb"]  # ids may, here
    rows = _rows(path, single_line=("id",))
    assert rows[0] == (1, "x", None)  # text may span lines
    assert "column 'id' spans several lines" in rows[1][2] and rows[1][1] is None
    assert rows[2] == (3, 'b"', None)  # the line after is read again on its own


def test_a_row_with_too_few_or_too_many_fields_is_rejected(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,name\na\nb,Bob,extra\nc,Cy\n")
    rows = _rows(path)
    assert [r[2] for r in rows[:2]] == [
        "the row has 1 fields, the header 2 (line 2)",
        "the row has 3 fields, the header 2 (line 3)",
    ]
    assert rows[2] == (3, "c", None)


def test_an_oversized_cell_or_line_is_a_rejected_row(tmp_path, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text("id,name\na," + "x" * (tabular.MAX_FIELD_CHARS + 1) + "\nb,Bob\n")
    rows = _rows(path)
    assert rows[0][2] == "a value is longer than 16 MiB (line 2)" and rows[1][1] == "b"
    monkeypatch.setattr(tabular, "MAX_LINE_CHARS", 100)
    path.write_text("id,name\na," + "y" * 250 + "\nb,Bob\n")
    assert [r.error for r in read_rows(path)] == ["the line is longer than 0 MiB (line 2)", None]


def test_nul_and_broken_utf8_are_rejected_rows_with_a_printable_id(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,name\na,A\x00da\nb\xe9,Bob\nc,Cy\n")
    rows = _rows(path)
    assert "NUL" in rows[0][2]
    assert rows[1][1] == "b\ufffd\ufffd" or "UTF-8" in rows[1][2]
    assert "UTF-8" in rows[1][2] and rows[1][1].encode("utf-8")
    assert rows[2] == (3, "c", None)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"id": "x", "v": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}", "nested deeper than 32"),
        (b'{"id": NaN}', "NaN is not a number"),
        (b'{"id": ' + b"9" * 5000 + b"}", "digits"),
        (b'{"id": "a\\u0000b"}', "NUL"),
        (b'{"id": "\\ud800"}', "not valid UTF-8"),
        (b'{"id": "\xff"}', "not valid UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
def test_a_bad_json_line_is_a_rejected_row_between_good_ones(tmp_path, line, reason):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "a"}\n' + line + b'\n{"id": "b"}\n')
    rows = list(read_rows(path))
    assert [r.error is None for r in rows] == [True, False, True]
    assert reason in rows[1].error


def test_a_truncated_gzip_keeps_the_rows_before_the_break(tmp_path):
    path = tmp_path / "in.csv.gz"
    body = b"id,name\n" + b"".join(b"r%d,Name\n" % i for i in range(20_000))
    path.write_bytes(gzip.compress(body)[:20_000])
    rows = list(read_rows(path))
    assert rows[-1].error and "cannot be read after line" in rows[-1].error
    good = [r.fields["id"] for r in rows if not r.error]
    assert len(good) > 100 and good == [f"r{i}" for i in range(len(good))]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("id,name\n".encode("utf-16"), "UTF-16"),
        (b"id,n\xe9\n", "not UTF-8"),
        (b"id,id\n", "named twice"),
        (b"id,a\x00\n", "NUL"),
        (b'id,"a\n', "header line is not readable"),
        (("," * tabular.MAX_COLUMNS + "\n").encode(), "at most 4096"),
    ],
)
def test_a_file_without_a_usable_header_fails_as_a_whole(tmp_path, content, reason):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=reason):
        list(read_rows(path))


def test_missing_files_are_not_found_and_directories_invalid(tmp_path):
    with pytest.raises(NotFound):
        list(read_rows(tmp_path / "none.csv"))
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InvalidInput, match="directory"):
        list(read_rows(tmp_path / "dir.csv"))
    with pytest.raises(InvalidInput, match="directory"):
        read_header(tmp_path / "dir.csv")


def test_the_header_of_a_file_without_rows_is_read(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,name\n")
    assert read_header(path) == ["id", "name"] and list(read_rows(path)) == []
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('not json\n{"id": 1, "at": 2}\n')
    assert read_header(jsonl) == ["id", "at"]


def test_the_shipped_tweets_read_without_a_single_rejected_row():
    with as_file(files("trustdesk.data") / "airline_tweets.csv.gz") as path:
        rows = list(read_rows(path, single_line=("tweet_id", "tweet_created", "airline", "name")))
    assert len(rows) == 11_791 and not [r for r in rows if r.error]
