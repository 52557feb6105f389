"""The words of a feedback text, as the search index sees them (pure; no keys, no database).

A text and a query go through the same normalisation, so "Café", "CAFE" and "cafe," are one term:
Unicode NFKC, case folding, accents stripped, split into runs of letters and digits, tokens shorter
than two characters and a small list of English stop words dropped.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MIN_TERM_CHARS", "STOP_WORDS", "highlight", "terms_of"]

MIN_TERM_CHARS = 2
# Words so common they select nothing; dropping them keeps the index small and hides the most
# frequent hashes, the easiest to guess by frequency.
_STOP = (
    "a an and are as at be been but by can did do does for from had has have he her him his how i "
    "if in into is it its me my no nor not of on or our she so than that the their them then there "
    "these they this those to too us was we were what when where which who why will with you your"
)
STOP_WORDS = frozenset(_STOP.split())
# Runs of letters and digits of any script (punctuation and _ split words), too-short runs skipped.
_WORD = re.compile(r"[^\W_]{" + str(MIN_TERM_CHARS) + ",}")


def _fold(text: str) -> str:
    if text.isascii():  # the common case: NFKC and accents are no-ops
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def terms_of(text: str) -> set[str]:
    """The distinct searchable terms of `text`."""
    return set(_WORD.findall(_fold(text))) - STOP_WORDS


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) runs: a piece is matched when it is a word the search
    `query` looks for (compared as the index compares them), so a page can mark it."""
    wanted = terms_of(query)
    if not wanted:
        return [(text, False)] if text else []
    pieces: list[tuple[str, bool]] = []
    start = 0
    for match in _WORD.finditer(text):
        if _fold(match.group()) in wanted:
            if match.start() > start:
                pieces.append((text[start : match.start()], False))
            pieces.append((match.group(), True))
            start = match.end()
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces
