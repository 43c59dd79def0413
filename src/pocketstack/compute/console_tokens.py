"""Console auth tokens: the one credential of a remote console (Nova's ``ConsoleAuthToken``).

A console URL carries a random token; the database keeps only its SHA-256, with where the
guest's console listens, the compute host that runs the guest and an expiry
(``console_token_ttl``, Nova's ``[consoleauth] token_ttl``).  The noVNC proxy and the admin
``os-console-auth-tokens`` API find a token by one indexed lookup of its hash; a token is
good until it expires and only while its instance is still on that compute host.  Expired
rows are removed whenever a token is made (Nova cleans them in a periodic task).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.compute.models import ConsoleAuthToken


@dataclass(frozen=True)
class ConnectInfo:
    """What a valid token grants: a connection to ``host:port`` for ``instance_uuid``."""

    instance_uuid: str
    console_type: str
    host: str
    port: int
    internal_access_path: str | None
    compute_host: str
    access_url_base: str
    expires: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random token: 128 bits, in a UUID's shape like Nova's."""
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def access_url(base: str, console_type: str, token: str) -> str:
    """The URL handed to the client.  noVNC (1.1 and later) reads the websocket's path and
    query from its own ``path`` parameter, so the token goes inside that one (Nova's
    ``access_url``); other console types get ``?token=``."""
    if console_type != "novnc":
        return f"{base}?token={token}"
    parts = urlsplit(base)
    query = parse_qs(parts.query)
    query["path"] = [f"{query.get('path', [''])[0]}?token={token}"]
    return parts._replace(query=urlencode(query, doseq=True)).geturl()


class ConsoleTokens:
    def __init__(self, db: Database, ttl: int):
        self.db = db
        self.ttl = ttl

    def authorize(self, info: ConnectInfo) -> str:
        """Store the authorization ``info`` (its ``expires`` is replaced by now + ttl) and
        return its token, which exists nowhere else from now on."""
        token = new_token()
        now = int(time.time())
        with self.db.session() as s:
            s.execute(sa.delete(ConsoleAuthToken).where(ConsoleAuthToken.expires <= now))
            s.add(ConsoleAuthToken(
                token_hash=token_hash(token), console_type=info.console_type, host=info.host, port=info.port,
                internal_access_path=info.internal_access_path, access_url_base=info.access_url_base,
                instance_uuid=info.instance_uuid, compute_host=info.compute_host, expires=now + self.ttl))
        return token

    def validate(self, token: str) -> ConnectInfo | None:
        """The authorization of ``token`` if it exists and has not expired (whether its
        instance is still there is the caller's check: it needs the compute side)."""
        if not token:
            return None
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(ConsoleAuthToken).where(ConsoleAuthToken.token_hash == token_hash(token),
                                                              ConsoleAuthToken.expires > int(time.time())))
            if row is None:
                return None
            return ConnectInfo(instance_uuid=row.instance_uuid, console_type=row.console_type, host=row.host,
                               port=row.port, internal_access_path=row.internal_access_path,
                               compute_host=row.compute_host, access_url_base=row.access_url_base,
                               expires=row.expires)

    def clean_instance(self, instance_uuid: str) -> None:
        """Drop every authorization of an instance (deleted, or moved to another host)."""
        with self.db.session() as s:
            s.execute(sa.delete(ConsoleAuthToken).where(ConsoleAuthToken.instance_uuid == instance_uuid))
