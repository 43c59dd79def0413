"""The Fernet formatter remembers opened tokens only while the keys that opened them
are the repository's keys."""

from __future__ import annotations

import time

import pytest

from pocketstack.identity.keys import KeyRepository
from pocketstack.identity.tokens import TokenError, TokenFormatter, TokenPayload


def _formatter(tmp_path) -> tuple[KeyRepository, TokenFormatter]:
    keys = KeyRepository(tmp_path / "fernet-keys", max_active_keys=3)
    keys.ensure()
    return keys, TokenFormatter(keys, max_opened=4)


def _reload(keys: KeyRepository) -> None:
    keys._checked_at = 0  # do not wait for the once-a-second directory check


def test_a_token_opened_before_its_key_is_removed_no_longer_opens(tmp_path):
    keys, formatter = _formatter(tmp_path)
    token = formatter.seal(TokenPayload(user_id="a" * 32, methods=["password"], expires_at=time.time() + 60))
    assert formatter.open(token).user_id == "a" * 32
    assert formatter.open(token) is formatter.open(token)  # remembered
    keys.rotate()
    _reload(keys)
    assert formatter.open(token).user_id == "a" * 32  # still a key of the repository
    for _ in range(2):  # the sealing key (primary, then secondary) falls out of the three kept
        keys.rotate()
        _reload(keys)
    with pytest.raises(TokenError):
        formatter.open(token)


def test_what_is_remembered_is_bounded_and_never_a_failure(tmp_path):
    keys, formatter = _formatter(tmp_path)
    tokens = [formatter.seal(TokenPayload(user_id=f"{i:032x}", methods=["password"], expires_at=time.time() + 60))
              for i in range(10)]
    for token in tokens:
        formatter.open(token)
    assert len(formatter._opened) == 4 and set(formatter._opened) == set(tokens[-4:])
    with pytest.raises(TokenError):
        formatter.open(tokens[0][:-2] + ("AA" if tokens[0][-2:] != "AA" else "BB"))
    assert len(formatter._opened) == 4
