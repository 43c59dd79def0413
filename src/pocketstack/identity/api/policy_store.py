"""``/v3/policies``: the policy blob collection, one more :class:`~.entities.Family`."""

from __future__ import annotations

from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.entities import Family, crud_rules
from pocketstack.identity.api.users import rendered
from pocketstack.identity.manager import Identity

# ``id`` is an attribute of the policy, never taken from the body (Keystone assigns it).
POLICY_FIELDS = frozenset({"id", "type", "blob"})


def policies(identity: Identity) -> Family:
    store = identity.policy_store
    return Family(
        key="policy", plural="policies", fields=POLICY_FIELDS, create_schema=schemas.policy_create,
        update_schema=schemas.policy_update, rules=crud_rules("policy", "policies"), find=store.list,
        fetch=store.get, add=lambda own, extra: store.create(type=own["type"], blob=own["blob"], extra=extra),
        change=store.update, remove=store.delete, render=rendered(render.policy), filters=("type",), bools=())
