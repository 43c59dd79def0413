"""The sweep of expired revocation events writes only when one has expired.

A DELETE on an identity table moves the validation caches' generation, whatever it
deleted; the sweep runs at every start and every ten minutes, so an empty sweep must
not write (it emptied every process's caches and made each start's sweep a write)."""

from __future__ import annotations

import time

from pocketstack.identity import models as m


def test_a_sweep_with_nothing_expired_leaves_the_caches_alone(cloud) -> None:
    cache = cloud.identity.tokens.cache
    before = cache.current()
    assert cloud.identity.revoke.prune() == 0
    assert cache.current() == before


def test_a_sweep_deletes_expired_events_and_only_those(cloud) -> None:
    revoke = cloud.identity.revoke
    old = time.time() - revoke.max_token_age - 60
    with cloud.db.session() as s:
        s.add(m.RevocationEvent(issued_before=old, revoked_at=old, audit_id="expired-one"))
        revoke.add(s, audit_id="recent-one")
    before = cloud.identity.tokens.cache.current()
    assert revoke.prune() == 1
    assert cloud.identity.tokens.cache.current() > before
    with cloud.db.session(readonly=True) as s:
        left = {e.audit_id for e in s.query(m.RevocationEvent).filter(
            m.RevocationEvent.audit_id.in_(["expired-one", "recent-one"]))}
    assert left == {"recent-one"}
