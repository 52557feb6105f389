"""Envelope encryption, blind indexes and the key store, on plain files."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.crypto import KeyDestroyed, MasterKey, Vault, WrongMasterKey, generate_master_key


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.open(f"sqlite:///{tmp_path / 'keys.db'}", MasterKey.parse(generate_master_key()))


def _subject(vault: Vault) -> tuple[str, bytes]:
    (sid,) = vault.new_subjects(1)
    return sid, vault.data_keys([sid])[sid]


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_round_trips(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    v = Vault.open(
        f"sqlite:///{tmp_path_factory.mktemp('k') / 'keys.db'}",
        MasterKey.parse(generate_master_key()),
    )
    sid, key = _subject(v)
    blob = v.encrypt(key, sid, "name", text)
    assert v.decrypt(key, sid, "name", blob) == text
    v.dispose()


def test_ciphertext_is_bound_to_its_subject_and_field(vault: Vault) -> None:
    sid, key = _subject(vault)
    other, other_key = _subject(vault)
    blob = vault.encrypt(key, sid, "email", "ada@example.com")
    assert b"ada@example.com" not in (blob or b"")
    with pytest.raises(InvalidTag):
        vault.decrypt(key, sid, "name", blob)  # moved to another column
    with pytest.raises(InvalidTag):
        vault.decrypt(other_key, other, "email", blob)  # moved to another customer


def test_destroyed_key_makes_data_unreadable_for_good(vault: Vault) -> None:
    sid, key = _subject(vault)
    blob = vault.encrypt(key, sid, "email", "ada@example.com")
    assert vault.destroy(sid) is True
    assert vault.is_destroyed(sid)
    assert vault.data_keys([sid]) == {}
    with pytest.raises(KeyDestroyed):
        vault.decrypt(vault.data_keys([sid]).get(sid), sid, "email", blob)
    assert vault.destroy(sid) is False


def test_destroyed_key_bytes_are_not_left_in_the_key_store_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    vault = Vault.open(f"sqlite:///{path}", MasterKey.parse(generate_master_key()))
    (sid,) = vault.new_subjects(1)
    with vault.keystore.connect() as conn:
        wrapped = conn.exec_driver_sql(
            "SELECT wrapped FROM data_keys WHERE subject_id = ?", (sid,)
        ).scalar()
    vault.destroy(sid)
    vault.dispose()
    raw = path.read_bytes() + (
        path.with_name("keys.db-wal").read_bytes()
        if path.with_name("keys.db-wal").exists()
        else b""
    )
    assert wrapped[-20:] not in raw


def test_blind_index_matches_normalised_email_only(vault: Vault) -> None:
    a = vault.blind_index("email", "Ada@Example.com ")
    assert a == vault.blind_index("email", "ada@example.com")
    assert a != vault.blind_index("email", "ada@example.org")
    assert a != vault.blind_index("phone", "ada@example.com")
    assert vault.blind_index("email", "") is None


def test_wrong_master_key_refuses_to_open_the_key_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    Vault.open(url, MasterKey.parse(generate_master_key())).new_subjects(1)
    with pytest.raises(WrongMasterKey):
        Vault.open(url, MasterKey.parse(generate_master_key()))


def test_rotation_rewraps_keys_and_retires_the_old_master(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old = MasterKey.parse(generate_master_key())
    vault = Vault.open(url, old)
    sid, key = _subject(vault)
    blob = vault.encrypt(key, sid, "name", "Ada Lovelace")
    index = vault.blind_index("email", "ada@example.com")
    new = MasterKey.parse(generate_master_key())
    assert vault.rotate_master(new) == 1
    vault.dispose()
    reopened = Vault.open(url, new)
    assert reopened.decrypt(reopened.data_keys([sid])[sid], sid, "name", blob) == "Ada Lovelace"
    assert reopened.blind_index("email", "ada@example.com") == index
    with pytest.raises(WrongMasterKey):
        Vault.open(url, old)


def test_master_key_must_be_32_bytes_of_base64() -> None:
    from trustdesk.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        MasterKey.parse("c2hvcnQ=")


def test_a_keyring_unwraps_with_any_key_and_wraps_with_the_current_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old, new = (MasterKey.parse(generate_master_key()) for _ in range(2))
    vault = Vault.open(url, old)
    before = vault.new_subjects(3)
    vault.add_master_key(new)
    after = vault.new_subjects(2)
    usage = vault.key_usage()
    assert usage[old.key_id]["data_keys"] == 3 and usage[new.key_id]["data_keys"] == 2
    # Another process holding both keys reads every subject; one holding only the old key
    # refuses to start (it could not wrap under the current key).
    other = Vault.open(url, [new, old])
    assert set(other.data_keys(before + after)) == set(before + after)
    with pytest.raises(WrongMasterKey):
        Vault.open(url, old)
    # Re-wrap in batches; the old key retires only when it wraps nothing.
    assert vault.retire_master_key(old.key_id) is False
    assert vault.rewrap_batch(2) == 3  # the named keys go first, in one batch
    assert vault.retire_master_key(old.key_id) is False
    while vault.rewrap_batch(2):
        pass
    assert old.key_id not in vault.key_usage()
    assert vault.retire_master_key(old.key_id) is True
    assert vault.checked_key_ids() == [new.key_id]
    assert set(Vault.open(url, new).data_keys(before + after)) == set(before + after)


def test_a_process_picks_up_a_key_added_elsewhere_by_reloading_its_ring(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old, new = (MasterKey.parse(generate_master_key()) for _ in range(2))
    ring_on_disk = [old]
    server = Vault.open(url, old, reload=lambda: list(ring_on_disk))
    rotator = Vault.open(url, old)
    ring_on_disk.insert(0, new)
    rotator.add_master_key(new)
    while rotator.rewrap_batch():
        pass
    sid = server.new_subjects(1)[0]  # wraps under the new key, which it loads on first use
    assert rotator.key_usage() == {new.key_id: {"data_keys": 1, "named_keys": 3}}
    assert sid in server.data_keys([sid])
