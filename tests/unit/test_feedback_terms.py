"""What counts as a word for feedback search, and the keyed hashes the index stores."""

from __future__ import annotations

from pathlib import Path

from trustdesk.crypto import MasterKey, Vault, generate_master_key
from trustdesk.feedback.terms import terms_of


def test_case_accents_and_punctuation_do_not_change_a_word():
    assert terms_of("CAFÉ!") == terms_of("café,") == terms_of("Cafe") == {"cafe"}
    assert terms_of("Straße") == {"strasse"}
    full_width, ligature = "\uff46\uff55\uff4c\uff4c", "\ufb01ne"  # full-width letters, fi ligature
    assert terms_of(f"{full_width} {ligature}") == {"full", "fine"}  # NFKC


def test_punctuation_and_underscores_split_words_and_digits_are_words():
    assert terms_of("refund/charge-back order_42 #A77") == {
        "refund",
        "charge",
        "back",
        "order",
        "42",
        "a77",
    }


def test_stop_words_and_single_characters_are_not_terms():
    assert terms_of("The refund was not in my account, I see a b c") == {
        "refund",
        "account",
        "see",
    }
    assert terms_of("the of a") == set()


def test_other_scripts_are_words_too():
    assert terms_of("Спасибо за помощь") == {"спасибо", "за", "помощь"}


def _vault(path: Path) -> Vault:
    return Vault.open(f"sqlite:///{path}", MasterKey.parse(generate_master_key()))


def test_term_hashes_are_stable_per_key_store_and_differ_between_key_stores(tmp_path):
    first = _vault(tmp_path / "a.db")
    hashes = first.term_hashes(["refund", "cafe"])
    assert first.term_hashes(["refund"]) == hashes[:1]
    assert len(set(hashes)) == 2 and all(-(2**63) <= h < 2**63 for h in hashes)
    first.dispose()
    again = Vault.open(f"sqlite:///{tmp_path / 'a.db'}", first.master)
    assert again.term_hashes(["refund", "cafe"]) == hashes
    other = _vault(tmp_path / "b.db")
    assert set(other.term_hashes(["refund", "cafe"])).isdisjoint(hashes)
    again.dispose()
    other.dispose()
