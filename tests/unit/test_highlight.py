"""Highlighting search matches: the pieces rebuild the text exactly, and only searched words are
marked, compared as the search index compares them (case and accents ignored)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.feedback.terms import highlight, terms_of


def test_matches_are_marked_whatever_their_case_or_accents():
    pieces = highlight("Lost my BAG at the café; bags and a bag.", "bag cafe")
    assert [p for p, hit in pieces if hit] == ["BAG", "café", "bag"]
    assert "".join(p for p, _ in pieces) == "Lost my BAG at the café; bags and a bag."


def test_a_query_without_searchable_words_marks_nothing():
    assert highlight("the bag", "the") == [("the bag", False)]


@given(st.text(max_size=80), st.text(max_size=20))
def test_pieces_rebuild_the_text_and_marks_are_query_terms(text, query):
    pieces = highlight(text, query)
    assert "".join(p for p, _ in pieces) == text
    wanted = terms_of(query)
    for piece, hit in pieces:
        if hit:
            assert terms_of(piece) <= wanted and terms_of(piece)
