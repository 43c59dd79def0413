"""Password hashing with bcrypt.

Hashing costs ~2^rounds work on purpose, so it is never done inside a database
transaction.  bcrypt only reads the first 72 bytes of a password; longer passwords are
truncated the way bcrypt always has, explicitly, so bcrypt>=5 accepts them.
"""

from __future__ import annotations

import bcrypt

MAX_PASSWORD_LENGTH = 4096


def _prepare(password: str) -> bytes:
    return password.encode("utf-8")[:72]


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str | None, hashed: str | None) -> bool:
    if not password or not hashed:
        return False
    try:
        return bcrypt.checkpw(_prepare(password), hashed.encode("ascii"))
    except ValueError:
        return False
