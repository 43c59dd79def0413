"""Metering labels and their rules (Neutron's ``metering`` and
``metering_source_and_destination_fields`` extensions).

A label belongs to a project and meters the traffic through that project's routers (a
``shared`` label: through every router); its rules say what it counts: traffic in one
``direction`` (``ingress`` into the router's internal networks, ``egress`` out of them)
to or from ``remote_ip_prefix``, or matching ``source_ip_prefix`` and/or
``destination_ip_prefix`` -- not both kinds in one rule, and at least one prefix, as
Neutron's metering plugin checks.  An ``excluded`` rule's traffic is left out of the
label's count.  Two rules of one label, direction and ``excluded`` whose
``remote_ip_prefix`` overlap are refused (409 ``MeteringLabelRuleOverlaps``, checked on
``remote_ip_prefix`` only, as Neutron does).  Neither labels nor rules change after
create; deleting a label deletes its rules (the foreign key's cascade).

Every change goes to the datapath as ``metering_label_updated`` (the label with all its
rules) or ``metering_label_deleted``: the Linux driver counts each label's rules with
nftables counters in the routers' namespaces (:mod:`.drivers.metering`).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.network import errors, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import MeteringLabel, MeteringLabelRule

PREFIXES = ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")


def _emit(w: Work, label: MeteringLabel) -> None:
    w.emit("metering_label_updated", views.metering_label_with_rules(w.s, label))


def create(w: Work, attrs: dict) -> MeteringLabel:
    label = MeteringLabel(project_id=w.owner(attrs), name=attrs.get("name") or "",
                          description=attrs.get("description") or "", shared=bool(attrs.get("shared")))
    w.s.add(label)
    w.s.flush()
    _emit(w, label)
    return label


def update(w: Work, label_id: str, attrs: dict, revision: int | None = None) -> MeteringLabel:
    """Nothing of a label changes (every attribute is Neutron's ``allow_put: False``)."""
    label = store.fetch(w.s, MeteringLabel, w.ctx, label_id)
    store.check_updatable(attrs, set())
    return label


def delete(w: Work, label_id: str) -> None:
    label = store.fetch(w.s, MeteringLabel, w.ctx, label_id)
    rendered = views.metering_label_with_rules(w.s, label)
    w.s.execute(sa.delete(MeteringLabelRule).where(MeteringLabelRule.metering_label_id == label.id),
                execution_options={"synchronize_session": False})
    w.s.delete(label)
    w.s.flush()
    w.emit("metering_label_deleted", rendered)


def prefix(attribute: str, value: Any) -> str | None:
    """A rule's prefix as Neutron keeps it (``netaddr.IPNetwork``: the address as given,
    a bare one with its full length), or None for none; anything ``ipaddress`` does not
    read as an interface is a 400 (Neutron's plugin raises ``Invalid``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.MeteringRuleInvalid(reason=f"{attribute}: {value} is invalid [not a string].")
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError as exc:
        raise errors.MeteringRuleInvalid(reason=f"{attribute}: {value} is invalid [{exc}].") from None


def validate_rule(attrs: dict) -> dict[str, str | None]:
    """The rule's prefixes, checked as Neutron's ``validate_metering_label_rule``."""
    prefixes = {attribute: prefix(attribute, attrs.get(attribute)) for attribute in PREFIXES}
    if prefixes["remote_ip_prefix"] and (prefixes["source_ip_prefix"] or prefixes["destination_ip_prefix"]):
        raise errors.MeteringRuleInvalid(reason="Cannot use 'remote-ip-prefix' in conjunction with "
                                                "'source-ip-prefix' or 'destination-ip-prefix'.")
    if not any(prefixes.values()):
        raise errors.MeteringRuleInvalid(reason="You must define at least one of the following parameters "
                                                "'remote_ip_prefix', or 'source_ip_prefix' or "
                                                "'destination_ip_prefix'.")
    return prefixes


def _check_overlaps(w: Work, label_id: str, direction: str, excluded: bool, remote: str | None) -> None:
    if not remote:
        return
    mine = ipaddress.ip_interface(remote).network
    for other in w.s.scalars(sa.select(MeteringLabelRule.remote_ip_prefix).where(
            MeteringLabelRule.metering_label_id == label_id, MeteringLabelRule.direction == direction,
            MeteringLabelRule.excluded == excluded, MeteringLabelRule.remote_ip_prefix.is_not(None))):
        theirs = ipaddress.ip_interface(str(other)).network
        if theirs.version == mine.version and theirs.overlaps(mine):
            raise errors.MeteringLabelRuleOverlaps(remote_ip_prefix=remote)


def fetch_label(w: Work, label_id: str) -> MeteringLabel:
    label = w.s.scalar(sa.select(MeteringLabel).where(MeteringLabel.id == label_id,
                                                      store.visible_clause(MeteringLabel, w.ctx)))
    if label is None:
        raise errors.MeteringLabelNotFound(id=label_id)
    return label


def create_rule(w: Work, attrs: dict) -> MeteringLabelRule:
    prefixes = validate_rule(attrs)
    label = fetch_label(w, attrs["metering_label_id"])
    excluded = bool(attrs.get("excluded"))
    _check_overlaps(w, label.id, attrs["direction"], excluded, prefixes["remote_ip_prefix"])
    rule = MeteringLabelRule(metering_label_id=label.id, direction=attrs["direction"], excluded=excluded,
                             **prefixes)
    try:
        w.s.add(rule)
        w.s.flush()
    except sa_exc.IntegrityError:  # the label was deleted meanwhile (Neutron's DBReferenceError)
        raise errors.MeteringLabelNotFound(id=label.id) from None
    _emit(w, label)
    return rule


def update_rule(w: Work, rule_id: str, attrs: dict, revision: int | None = None) -> MeteringLabelRule:
    """Nothing of a rule changes: Neutron's metering plugin has no update."""
    rule = store.fetch(w.s, MeteringLabelRule, w.ctx, rule_id)
    store.check_updatable(attrs, set())
    return rule


def delete_rule(w: Work, rule_id: str) -> None:
    rule = store.fetch(w.s, MeteringLabelRule, w.ctx, rule_id)
    label = w.s.get(MeteringLabel, rule.metering_label_id)
    w.s.delete(rule)
    w.s.flush()
    if label is not None:
        _emit(w, label)


class Rules:
    """The rule collection's functions under the names :data:`.manager.COLLECTIONS` calls."""

    create = staticmethod(create_rule)
    update = staticmethod(update_rule)
    delete = staticmethod(delete_rule)
