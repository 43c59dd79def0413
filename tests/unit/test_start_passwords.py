"""Start-up's bcrypt work ahead of need: a restart given the admin password checks it
against the stored hash beside the imports (Keystone's bootstrap resets the password only
when that check fails), a new database hashes admin's and demo's passwords ahead."""

from __future__ import annotations

import sqlite3

import bcrypt

from pocketstack.cli.first_start import _stored_admin_hash, _stored_admin_hash_in, hash_ahead
from pocketstack.common import config
from pocketstack.identity import passwords


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def test_a_check_made_ahead_answers_matches() -> None:
    stored = _hash("right")
    passwords.check_ahead("right", stored)
    passwords.check_ahead("wrong", stored)
    assert passwords.matches("right", stored) is True
    assert passwords.matches("wrong", stored) is False
    assert passwords.matches("right", None) is False
    assert passwords.matches("right", stored) is True  # nothing ahead any more: checked now


def test_forget_ahead_drops_unused_checks() -> None:
    passwords.check_ahead("unused", _hash("unused"))
    passwords.forget_ahead()
    assert passwords._checks == {}


def _settings(data_dir, admin_password: str = "secret", database_url: str = "") -> config.Settings:
    return config.load(overrides={"data_dir": data_dir, "admin_password": admin_password, "bcrypt_rounds": 4,
                                  "database_url": database_url}, environ={})


def _database(path, admin_hash: str | None) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE identity_user (id TEXT, name TEXT, domain_id TEXT, password_hash TEXT)")
        db.execute("INSERT INTO identity_user VALUES ('u1', 'admin', 'other-domain', 'not-this-one')")
        if admin_hash is not None:
            db.execute("INSERT INTO identity_user VALUES ('u2', 'admin', 'default', ?)", (admin_hash,))


def test_a_restart_checks_the_admin_password_instead_of_hashing_it(tmp_path) -> None:
    settings = _settings(tmp_path)
    stored = _hash("secret")
    _database(settings.data_dir / "pocketstack.db", stored)
    assert settings.effective_database_url == f"sqlite:///{settings.data_dir / 'pocketstack.db'}"
    passwords.forget_ahead()
    try:
        chosen = hash_ahead(settings)
        assert chosen.admin == "secret"
        assert list(passwords._checks) == [("secret", stored)] and passwords._ahead == {}
        assert passwords.matches("secret", stored)
    finally:
        passwords.forget_ahead()


def test_without_a_readable_admin_hash_the_password_is_hashed_ahead(tmp_path) -> None:
    settings = _settings(tmp_path)
    _database(settings.data_dir / "pocketstack.db", None)
    passwords.forget_ahead()
    try:
        hash_ahead(settings)
        assert passwords._checks == {} and list(passwords._ahead) == [("secret", 4)]
    finally:
        passwords.forget_ahead()
    assert _stored_admin_hash(tmp_path / "missing.db") is None
    (tmp_path / "garbage.db").write_bytes(b"not a database")
    assert _stored_admin_hash(tmp_path / "garbage.db") is None


def test_on_a_database_url_the_stored_hash_is_read_through_sqlalchemy(tmp_path) -> None:
    """Another backend (a database URL) is read with a connection of its own: the same
    check ahead, whichever database it is (SQLite by URL here)."""
    path = tmp_path / "elsewhere.db"
    stored = _hash("secret")
    _database(path, stored)
    settings = _settings(tmp_path / "data", database_url=f"sqlite:///{path}")
    passwords.forget_ahead()
    try:
        hash_ahead(settings)
        assert list(passwords._checks) == [("secret", stored)] and passwords._ahead == {}
    finally:
        passwords.forget_ahead()
    assert _stored_admin_hash_in(f"sqlite:///{tmp_path / 'garbage.db'}") is None
    assert _stored_admin_hash_in("postgresql://nobody@127.0.0.1:1/none") is None
