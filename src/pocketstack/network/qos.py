"""QoS policies and their rules (Neutron's ``qos`` extension with ``qos-bw-limit-direction``,
``qos-bw-minimum-ingress``, ``qos-default`` and the policy bindings of networks and ports).

A policy holds at most one rule of a type per direction (one DSCP marking rule): the
unique constraint on ``network_qos_rule`` decides it.  The other rule check Neutron makes
reads the policy's other rules (a minimum bandwidth above the same direction's limit is
a 409), so every rule change also bumps the policy's revision number by compare-and-swap:
two changes to one policy's rules cannot both commit on stale reads -- one re-runs.

A project has at most one default policy (``network_qos_default_policy``'s primary key);
a network created without ``qos_policy_id`` gets it, as in Neutron.  A policy bound to a
network or port cannot be deleted (409 QosPolicyInUse).  Binding one bumps its
``generation`` and a delete happens only at the generation it checked, so a binding and
a delete racing cannot both commit: one re-runs and sees the other.

RBAC policies of object type ``qos_policy`` share a policy (its ``shared`` flag is the
wildcard one, see :mod:`.rbac`): a project it is shared with sees it and binds it to its
networks and ports, but does not change it.  The Linux
datapath enforces bandwidth limit rules (``drivers/tc_qos.py``: the policies and their
rules reach it as ``qos_policy_*`` events); DSCP marking and minimum bandwidth rules are
recorded and shown, not applied.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.common.validation import parse_bool
from pocketstack.network import converters, errors, rbac, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port, QosDefaultPolicy, QosPolicy, QosRule, Tag

BANDWIDTH_LIMIT, DSCP_MARKING, MINIMUM_BANDWIDTH = "bandwidth_limit", "dscp_marking", "minimum_bandwidth"
DIRECTIONS = ["ingress", "egress"]
# neutron_lib.constants.VALID_DSCP_MARKS
DSCP_MARKS = [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56]
KBPS = (0, converters.DB_INTEGER_MAX)


def _kbps(attribute: str, value: Any) -> int:
    return converters.in_range(attribute, converters.to_int(value), *KBPS)


def _direction(attribute: str, value: Any) -> str:
    return converters.one_of(attribute, value, DIRECTIONS)


def _dscp(attribute: str, value: Any) -> int:
    mark = converters.to_int(value)
    if mark not in DSCP_MARKS:
        raise converters.invalid_attribute(attribute, f"{mark} is not in {DSCP_MARKS}")
    return mark


# rule type -> {attribute: (converter, default on create; None: required)}, as Neutron's
# sub-resource attribute maps (with qos-bw-limit-direction and qos-bw-minimum-ingress).
RULE_TYPES: dict[str, dict[str, tuple[Any, Any]]] = {
    BANDWIDTH_LIMIT: {"max_kbps": (_kbps, None), "max_burst_kbps": (_kbps, 0), "direction": (_direction, "egress")},
    DSCP_MARKING: {"dscp_mark": (_dscp, None)},
    MINIMUM_BANDWIDTH: {"min_kbps": (_kbps, None), "direction": (_direction, "egress")},
}
UPDATABLE = {"name", "description", "shared", "is_default"}


def rule_values(rule_type: str, attrs: dict, create: bool) -> dict:
    """The rule's converted attributes (Neutron's ``convert_to_int`` and validators),
    with the defaults filled in on create; a missing required one is a 400."""
    values = {}
    for attribute, (convert, default) in RULE_TYPES[rule_type].items():
        if attribute in attrs:
            values[attribute] = convert(attribute, attrs[attribute])
        elif create and default is None:
            raise errors.InvalidInput(error_message=f"Failed to parse request. Required attribute '{attribute}' "
                                                     f"not specified")
        elif create:
            values[attribute] = default
    return values


# -- policies -----------------------------------------------------------------------------------
def create(w: Work, attrs: dict) -> QosPolicy:
    row = QosPolicy(project_id=w.owner(attrs), name=attrs.get("name") or "",
                    description=attrs.get("description") or "", shared=False)
    w.s.add(row)
    w.s.flush()
    if attrs.get("shared"):
        rbac.set_wildcard_share(w, row, True)
    if attrs.get("is_default"):
        _set_default(w, row)
    w.emit("qos_policy_updated", views.render_one(w.s, row))
    return row


def update(w: Work, policy_id: str, attrs: dict, revision: int | None = None) -> QosPolicy:
    row = store.fetch(w.s, QosPolicy, w.ctx, policy_id)
    store.check_updatable(attrs, UPDATABLE)
    if "is_default" in attrs:
        if attrs["is_default"]:
            _set_default(w, row)
        else:
            w.s.execute(sa.delete(QosDefaultPolicy).where(QosDefaultPolicy.project_id == row.project_id,
                                                          QosDefaultPolicy.qos_policy_id == row.id))
    if "shared" in attrs:
        # Checked at the policy's generation, which every binding bumps: a binding
        # racing the unshare re-runs one of them.
        cas_update(w.s, QosPolicy, where={"id": row.id, "generation": row.generation},
                   values={"generation": row.generation + 1})
        rbac.set_wildcard_share(w, row, attrs["shared"])
        w.s.refresh(row)
    store.update_row(w.s, row, {k: v for k, v in attrs.items() if k not in ("is_default", "shared")}, revision)
    w.emit("qos_policy_updated", views.render_one(w.s, row))
    return row


def delete(w: Work, policy_id: str) -> None:
    row = store.fetch(w.s, QosPolicy, w.ctx, policy_id)
    rendered = views.render_one(w.s, row)
    for kind, model in (("port", Port), ("network", Network)):
        bound = w.s.scalar(sa.select(model.id).where(model.qos_policy_id == row.id).limit(1))
        if bound is not None:
            raise errors.QosPolicyInUse(policy_id=row.id, object_type=kind, object_id=bound)
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
    rbac.release_quota(w.s, row.id)
    deleted = changed_rows(w.s, sa.delete(QosPolicy).where(QosPolicy.id == row.id,
                                                           QosPolicy.revision_number == row.revision_number,
                                                           QosPolicy.generation == row.generation),
                           execution_options={"synchronize_session": False})
    if deleted != 1:  # a rule changed or a network or port was bound to it meanwhile
        raise ConcurrentUpdate(f"QoS policy {row.id} changed while being deleted")
    w.emit("qos_policy_deleted", rendered)


def _set_default(w: Work, row: QosPolicy) -> None:
    """Make ``row`` its project's default (Neutron's ``set_default``): a no-op if it is,
    409 if another policy is."""
    current = w.s.get(QosDefaultPolicy, row.project_id)
    if current is not None and current.qos_policy_id == row.id:
        return
    inserted = current is None and try_insert(w.s, lambda: w.s.execute(sa.insert(QosDefaultPolicy).values(
        project_id=row.project_id, qos_policy_id=row.id)))
    if not inserted:
        raise errors.QoSPolicyDefaultAlreadyExists(project_id=row.project_id)


def default_ids(session, project_ids: set[str]) -> set[str]:
    """The ids of the default policies of ``project_ids`` (for ``is_default``)."""
    if not project_ids:
        return set()
    return set(session.scalars(sa.select(QosDefaultPolicy.qos_policy_id)
                               .where(QosDefaultPolicy.project_id.in_(sorted(project_ids)))))


def is_default_filter(query) -> list:
    """``is_default=<bool>`` on the policy list (not a column: the defaults table)."""
    values = query.getlist("is_default")
    if not values:
        return []
    defaults = sa.select(QosDefaultPolicy.qos_policy_id)
    return [sa.or_(*(QosPolicy.id.in_(defaults) if parse_bool(v, "is_default") else QosPolicy.id.not_in(defaults)
                     for v in values))]


# -- bindings of networks and ports ---------------------------------------------------------------
def binding(w: Work, policy_id: str | None) -> str | None:
    """The policy a network or port is bound to: one the caller sees (404 otherwise, as
    Neutron's ``get_policy_obj``), or none."""
    if policy_id is None:
        return None
    policy = store.fetch(w.s, QosPolicy, w.ctx, converters.uuid("qos_policy_id", policy_id))
    cas_update(w.s, QosPolicy, where={"id": policy.id, "generation": policy.generation},
               values={"generation": policy.generation + 1})
    rbac.hold_access(w, policy, w.ctx.project_id)
    return policy.id


def network_binding(w: Work, project_id: str, attrs: dict) -> str | None:
    """A new network's policy: the one asked for, else its project's default policy."""
    if attrs.get("qos_policy_id"):
        return binding(w, attrs["qos_policy_id"])
    default = w.s.get(QosDefaultPolicy, project_id)
    return binding(w, default.qos_policy_id) if default is not None else None


def rebinding(w: Work, current: str | None, wanted: str | None) -> str | None:
    """A changed binding: the caller must see the policy it replaces (Neutron's
    ``_check_policy_change_permission``, 403) and the one it binds (404)."""
    if wanted is not None:
        converters.uuid("qos_policy_id", wanted)
    if current == wanted:
        return current
    if current is not None and w.s.scalar(sa.select(QosPolicy.id).where(
            QosPolicy.id == current, store.visible_clause(QosPolicy, w.ctx))) is None:
        raise errors.PolicyRemoveAuthorizationError(policy_id=current)
    return binding(w, wanted)


# -- rules ----------------------------------------------------------------------------------------
def fetch_rule(w: Work, policy: QosPolicy, rule_type: str, rule_id: str) -> QosRule:
    rule = w.s.scalar(sa.select(QosRule).where(QosRule.id == rule_id, QosRule.qos_policy_id == policy.id,
                                               QosRule.type == rule_type))
    if rule is None:
        raise errors.QosRuleNotFound(rule_id=rule_id, policy_id=policy.id)
    return rule


def find_rule(w: Work, rule_type: str, rule_id: str) -> QosRule:
    """A rule by id alone (the ``qos-rules-alias`` routes), in a policy the caller sees."""
    rule = w.s.scalar(sa.select(QosRule).where(QosRule.id == rule_id, QosRule.type == rule_type,
                                               store.visible_clause(QosRule, w.ctx)))
    if rule is None:
        raise errors.QosRuleNotFound(rule_id=rule_id, policy_id="")
    return rule


def _check_conflicts(w: Work, policy: QosPolicy, rule_type: str, values: dict, rule: QosRule | None) -> None:
    """Neutron's ``check_rules_conflict`` (one rule of a type per direction: 409) and
    ``check_bandwidth_rule_conflict`` (a minimum above a limit of the same direction --
    of every direction when the request names none: 409)."""
    direction = values.get("direction", rule.direction if rule is not None else "")
    requested = values.get("direction")
    for other in w.s.scalars(sa.select(QosRule).where(QosRule.qos_policy_id == policy.id,
                                                      QosRule.id != (rule.id if rule is not None else ""))):
        if other.type == rule_type and other.direction == direction:
            raise errors.QoSRulesConflict(new_rule_type=rule_type, rule_id=other.id, policy_id=policy.id)
        if other.type == DSCP_MARKING or (requested and other.direction != requested):
            continue
        if other.type == MINIMUM_BANDWIDTH and "max_kbps" in values and (other.min_kbps or 0) > values["max_kbps"]:
            raise errors.QoSRuleParameterConflict(rule_value=values["max_kbps"], policy_id=policy.id,
                                                  existing_rule=other.type, existing_value=other.min_kbps)
        if other.type == BANDWIDTH_LIMIT and "min_kbps" in values and (other.max_kbps or 0) < values["min_kbps"]:
            raise errors.QoSRuleParameterConflict(rule_value=values["min_kbps"], policy_id=policy.id,
                                                  existing_rule=other.type, existing_value=other.max_kbps)


def _changing_rules(w: Work, policy_id: str) -> QosPolicy:
    """The policy whose rules change, its revision bumped first (compare-and-swap): a
    concurrent rule change re-runs here, before anything is read or written."""
    policy = store.fetch(w.s, QosPolicy, w.ctx, policy_id)
    store.bump(w.s, policy)
    return policy


def _rules_changed(w: Work, policy: QosPolicy) -> None:
    """Tell the datapath the policy's rules as they are now."""
    w.s.flush()
    w.s.expire(policy)
    w.emit("qos_policy_updated", views.render_one(w.s, policy))


def create_rule(w: Work, policy_id: str, rule_type: str, attrs: dict) -> QosRule:
    policy = _changing_rules(w, policy_id)
    values = rule_values(rule_type, attrs, create=True)
    _check_conflicts(w, policy, rule_type, values, None)
    rule = QosRule(id=str(uuid.uuid4()), qos_policy_id=policy.id, type=rule_type,
                   direction=values.pop("direction", ""), **values)
    w.s.add(rule)
    _rules_changed(w, policy)
    return rule


def update_rule(w: Work, policy_id: str, rule_type: str, rule_id: str, attrs: dict) -> QosRule:
    policy = _changing_rules(w, policy_id)
    rule = fetch_rule(w, policy, rule_type, rule_id)
    values = rule_values(rule_type, attrs, create=False)
    _check_conflicts(w, policy, rule_type, values, rule)
    for key, value in values.items():
        setattr(rule, key, value)
    _rules_changed(w, policy)
    return rule


def delete_rule(w: Work, policy_id: str, rule_type: str, rule_id: str) -> None:
    policy = _changing_rules(w, policy_id)
    w.s.delete(fetch_rule(w, policy, rule_type, rule_id))
    _rules_changed(w, policy)
