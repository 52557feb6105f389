"""Flesch reading ease of English text: 206.835 - 1.015 x words per sentence - 84.6 x syllables
per word. 60-70 is plain English, above 70 easy, below 50 hard. Syllables are counted as groups
of vowels (a silent final "e" dropped, at least one per word): a documented approximation that is
within a few points of dictionary counts on ordinary prose."""

from __future__ import annotations

import re

__all__ = ["flesch_reading_ease", "syllables"]

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n\s*\n|\n\s*[-*]\s")
_VOWELS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    w = word.lower()
    count = len(_VOWELS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def flesch_reading_ease(text: str) -> float:
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(len([s for s in _SENTENCE_END.split(text) if _WORD.search(s)]), 1)
    per_sentence = len(words) / sentences
    per_word = sum(syllables(w) for w in words) / len(words)
    return round(206.835 - 1.015 * per_sentence - 84.6 * per_word, 1)
