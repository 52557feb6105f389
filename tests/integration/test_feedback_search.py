"""Keyword search over encrypted feedback, through the service, API and CLI, on each database."""

from __future__ import annotations

import json
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, func, select

from trustdesk import audit
from trustdesk.errors import InvalidInput
from trustdesk.feedback import public, service
from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import import_feedback_rows
from trustdesk.feedback.models import Feedback, FeedbackTerm
from trustdesk.feedback.terms import terms_of
from trustdesk.tabular import Row

_ids = count(1)


def _import(platform, texts, *, source="survey", segment=None, customer=None):
    """Import one record per text; returns their external ids in order."""
    external = [f"f{next(_ids)}" for _ in texts]
    rows = [
        Row(
            n,
            {
                "external_id": eid,
                "text": text,
                "at": "2024-03-01T10:00:00Z",
                "source": source,
                "segment": segment,
                "customer": customer,
            },
        )
        for n, (eid, text) in enumerate(zip(external, texts, strict=True), 1)
    ]
    report = import_feedback_rows(platform.db, platform.vault, rows, default_analyser(), actor="t")
    assert not report.rejected, report.rejected
    return external


def _search(platform, text, limit=50, **filters):
    with platform.db.reading() as session:
        items, _ = service.list_feedback(
            session, platform.vault, service.FeedbackFilter(text=text, **filters), limit=limit
        )
    return [i.external_id for i in items]


def _postings(platform):
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(FeedbackTerm))


def test_search_finds_feedback_by_word_whatever_its_case_accents_and_punctuation(platform):
    cafe, street, other = _import(
        platform, ["The CAFÉ was cold!!", "Straße closed; refund-request sent.", "All fine"]
    )
    assert _search(platform, "café") == [cafe]
    assert _search(platform, "Cafe") == [cafe]
    assert _search(platform, "cafe!") == [cafe]
    assert _search(platform, "STRASSE") == [street]
    assert _search(platform, "refund") == [street]
    assert _search(platform, "fine") == [other]
    assert _search(platform, "caf") == []  # whole words, not prefixes


def test_every_word_of_a_search_must_occur(platform):
    both, refund_only, _late_only = _import(
        platform, ["Refund came late", "Refund was quick", "The parcel was late"]
    )
    assert _search(platform, "refund") == [both, refund_only]
    assert _search(platform, "late refund") == [both]
    assert _search(platform, "refund late parcel") == []
    assert _search(platform, "the refund") == [both, refund_only]  # stop words are ignored


def test_a_search_with_no_searchable_word_is_refused(platform):
    with platform.db.reading() as session, pytest.raises(InvalidInput, match="stop word"):
        service.list_feedback(session, platform.vault, service.FeedbackFilter(text="the a"))


def test_search_combines_with_filters_and_pages_by_cursor(platform):
    retail = _import(platform, [f"refund number {i}" for i in range(7)], segment="retail")
    _import(platform, ["refund elsewhere", "no match here"], segment="travel")
    _import(platform, ["refund from chat"], source="chat", segment="retail")
    seen: list[str] = []
    cursor = 0
    with platform.db.reading() as session:
        while True:
            items, cursor = service.list_feedback(
                session,
                platform.vault,
                service.FeedbackFilter(text="REFUND", segment="retail", source="survey"),
                after_id=cursor or 0,
                limit=3,
            )
            assert len(items) <= 3
            seen += [i.external_id for i in items]
            if cursor is None:
                break
    assert seen == retail
    assert _search(platform, "refund number", sentiment="nonsense") == []


def test_search_reads_the_term_index_in_id_order_without_sorting(platform, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's query plan")
    _import(platform, ["refund came late"])
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "AS posting" in statement:
            statements.append((statement, parameters))

    engine = platform.db.read_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _search(platform, "late refund")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements
    with platform.db.reading() as session:
        for statement, parameters in statements:
            plan = " | ".join(
                r[3]
                for r in session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                )
            )
            assert "USING PRIMARY KEY (bucket=? AND term_hash=? AND feedback_id>?)" in plan
            assert "USING PRIMARY KEY (bucket=? AND term_hash=? AND feedback_id=?)" in plan
            assert "TEMP B-TREE" not in plan and "SCAN" not in plan


def test_importing_again_does_not_duplicate_the_index(platform):
    rows = [
        Row(1, {"external_id": "r1", "text": "refund came late", "at": "2024-01-01"}),
        Row(2, {"external_id": "r2", "text": "late again, refund please", "at": "2024-01-01"}),
    ]
    for _ in range(2):
        import_feedback_rows(
            platform.db, platform.vault, rows, default_analyser(), actor="t", source="s"
        )
    assert _postings(platform) == 7  # refund, came, late + late, again, refund, please
    assert _search(platform, "late refund") == ["r1", "r2"]


def test_no_word_of_the_feedback_is_stored_in_the_database_file(platform, settings, backend):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file")
    _import(platform, ["Zanzibarquokka overcharged me", "quokkaburger ZANZIBARQUOKKA"])
    assert len(_search(platform, "zanzibarquokka")) == 2
    platform.close()
    data = b"".join(
        path.read_bytes() for path in settings.data_dir.iterdir() if path.name.startswith("trust")
    ).lower()
    for word in (b"zanzibarquokka", b"quokkaburger", b"overcharged"):
        assert word not in data


def test_forgetting_a_customer_removes_their_feedback_from_search(cli, platform, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,name\nc1,Ada\nc2,Bob\n")
    assert cli("customers", "import", str(customers)).exit_code == 0
    (ada,) = _import(platform, ["My card was skimmed"], customer="c1")
    (bob,) = _import(platform, ["Card skimmed at the shop"], customer="c2")
    (anon,) = _import(platform, ["skimmed card, anonymous"])
    with platform.db.reading() as session:
        ada_id = session.scalar(select(Feedback.customer_id).where(Feedback.external_id == ada))
    with platform.db.transaction() as session:
        assert public.forget_customer_feedback(session, ada_id) == 2  # card, skimmed
    assert _search(platform, "skimmed card") == [bob, anon]
    assert cli("customers", "forget", "c1", "--yes").exit_code == 0
    assert cli("feedback", "reindex").exit_code == 0  # an erased text is never indexed again
    assert _search(platform, "skimmed") == [bob, anon]
    assert cli("customers", "forget", "c2", "--yes").exit_code == 0
    assert cli("feedback", "reindex").exit_code == 0  # and loses what it had
    assert _search(platform, "skimmed") == [anon]


def test_reindex_builds_the_index_of_feedback_stored_before_it(cli, platform):
    ids = _import(platform, [f"parcel {i} arrived broken" for i in range(12)])
    before = _postings(platform)
    with platform.db.transaction() as session:  # as if imported before search existed
        session.execute(delete(FeedbackTerm))
    assert _search(platform, "broken parcel") == []
    result = cli("feedback", "reindex", "--batch-size", "5")
    assert result.exit_code == 0, result.output
    assert "indexed 12 feedback rows" in result.stdout
    assert _search(platform, "broken parcel") == ids
    assert _postings(platform) == before
    assert cli("feedback", "reindex").exit_code == 0  # again: the same index
    assert _postings(platform) == before
    with platform.db.reading() as session:
        runs = audit.entries(session, entity_type="feedback", entity_id="search")
    assert [(e.action, json.loads(e.diff)) for e in runs] == [
        ("feedback.reindexed", {"rows": 12, "postings": before})
    ] * 2


def test_api_q_and_cli_q_search(api, cli, platform):
    first, _, third = _import(
        platform, ["Refund came late", "Nice staff", "late refund again"], segment="retail"
    )
    page = api.get("/api/v1/feedback", params={"q": "refund LATE", "limit": 1}).json()
    assert [i["external_id"] for i in page["items"]] == [first]
    rest = api.get(
        "/api/v1/feedback", params={"q": "refund late", "cursor": page["next_cursor"]}
    ).json()
    assert [i["external_id"] for i in rest["items"]] == [third] and rest["next_cursor"] is None
    assert api.get("/api/v1/feedback", params={"q": "the"}).status_code == 422
    listed = json.loads(cli("feedback", "list", "--q", "refund", "--json").stdout)["items"]
    assert [i["external_id"] for i in listed] == [first, third]


_VOCABULARY = ["Refund", "rèfund", "LATE", "parcel", "café", "Cafe", "the", "x", "staff!", "ok"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    corpus=st.lists(
        st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=6).map(" ".join),
        min_size=1,
        max_size=12,
    ),
    query=st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=3).map(" ".join),
    page=st.integers(min_value=1, max_value=4),
)
def test_search_equals_decrypting_and_matching_every_row(platform, corpus, query, page):
    _import(platform, corpus, source="prop")
    wanted = terms_of(query)
    with platform.db.reading() as session:
        rows = list(session.scalars(select(Feedback).order_by(Feedback.id)))
        texts = service.decrypt_texts(session, platform.vault, rows)
        naive = [r.id for r, t in zip(rows, texts, strict=True) if wanted <= terms_of(t or "")]
        if not wanted:
            with pytest.raises(InvalidInput):
                service.list_feedback(session, platform.vault, service.FeedbackFilter(text=query))
            return
        found: list[int] = []
        cursor: int | None = 0
        while cursor is not None:
            items, cursor = service.list_feedback(
                session,
                platform.vault,
                service.FeedbackFilter(text=query),
                after_id=cursor,
                limit=page,
            )
            found += [i.id for i in items]
    assert found == naive


def test_forgetting_a_customer_through_the_cli_also_forgets_their_words(cli, platform, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text(
        "external_id,name,email,phone,segment,jurisdiction\nc1,Ada,ada@example.com,,retail,GB\n"
    )
    assert cli("customers", "import", str(people)).exit_code == 0
    notes = tmp_path / "notes.csv"
    notes.write_text("id,text,at,customer\nn1,Zebrafish lasagne was cold,2024-01-02T10:00:00Z,c1\n")
    imported = cli(
        "feedback",
        "import",
        str(notes),
        "--source",
        "survey",
        "--id-column",
        "id",
        "--text-column",
        "text",
        "--time-column",
        "at",
        "--customer-column",
        "customer",
    )
    assert imported.exit_code == 0, imported.output
    assert "n1" in cli("feedback", "list", "--q", "zebrafish", "--json").stdout
    assert cli("customers", "forget", "c1", "--yes").exit_code == 0
    assert "n1" not in cli("feedback", "list", "--q", "zebrafish", "--json").stdout
