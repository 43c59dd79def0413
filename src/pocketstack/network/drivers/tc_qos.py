"""QoS bandwidth limits on the Linux datapath's port devices, with ``tc`` and nftables.

A port's limits come from its own QoS policy, else from its network's -- but a network's
policy does not apply to the network service's own ports (DHCP, router interfaces),
router gateways aside: Neutron's ``QosRule.should_apply_to_port``.  Only
``bandwidth_limit`` rules are enforced (DSCP marking and minimum bandwidth are
recorded, not applied).  On the port's device in the datapath's host namespace
(``tap<port11>``, the bridge side of the guest's link), as Neutron's Linux bridge agent
limits it:

- the VM's *egress* (traffic the device receives from the guest) is policed: what
  exceeds ``max_kbps`` with ``max_burst_kbps`` is dropped.  Neutron uses a tc police
  filter on the ingress qdisc; kernels without the ``act_police``/``cls_basic`` modules
  (this project's CI VMs) refuse that, so the same policing is an nftables ``limit`` in
  a chain on the device's ingress hook (table ``netdev pocketstack_qos``, one chain per
  device, named after it);
- the VM's *ingress* (traffic the device sends to the guest) is shaped by a ``tbf``
  root qdisc.

A burst of 0 is Neutron's default, 80 % of the rate, and never less than one full-size
frame (a smaller bucket would pass nothing).
"""

from __future__ import annotations

import json

from pocketstack.common import netns

# Neutron's qos_consts.DEFAULT_BURST_RATE
DEFAULT_BURST_RATE = 0.8
MIN_BURST_BYTES = 1600
# Neutron's Linux bridge agent's tbf latency.
LATENCY_MS = 50
TABLE = "pocketstack_qos"
Limit = tuple[int, int]  # (rate in kbit/s, burst in bytes)


def _owned_by_service(port: dict) -> bool:
    owner = port.get("device_owner") or ""
    return owner.startswith("network:") and owner != "network:router_gateway"


def limits(port: dict, networks: dict[str, dict], policies: dict[str, dict]) -> dict[str, Limit]:
    """``{"egress"|"ingress": (kbit/s, burst bytes)}`` of the bandwidth limit rules that
    apply to ``port`` (directions as the rules name them: the VM's)."""
    policy_id = port.get("qos_policy_id")
    if policy_id is None and not _owned_by_service(port):
        policy_id = (networks.get(port.get("network_id") or "") or {}).get("qos_policy_id")
    policy = policies.get(policy_id or "")
    found: dict[str, Limit] = {}
    for rule in (policy or {}).get("rules") or []:
        if rule.get("type") != "bandwidth_limit":
            continue
        rate = int(rule["max_kbps"])
        burst_kbits = int(rule.get("max_burst_kbps") or 0) or rate * DEFAULT_BURST_RATE
        found[rule.get("direction") or "egress"] = (rate, max(int(burst_kbits * 1000 / 8), MIN_BURST_BYTES))
    return found


def apply(ns: str, device: str, wanted: dict[str, Limit]) -> None:
    """Make ``device``'s qdiscs in ``ns`` enforce ``wanted`` (and nothing when empty)."""
    egress, ingress = wanted.get("egress"), wanted.get("ingress")
    if ingress is None:
        netns.execute(ns, "tc", "qdisc", "del", "dev", device, "root", check=False)
    else:
        netns.execute(ns, "tc", "qdisc", "replace", "dev", device, "root", "tbf", "rate", f"{ingress[0]}kbit",
                      "burst", str(ingress[1]), "latency", f"{LATENCY_MS}ms")
    netns.execute(ns, "nft", "delete", "chain", "netdev", TABLE, device, check=False)
    if egress is not None:
        rate_bytes = egress[0] * 1000 // 8
        netns.execute(ns, "nft", "-f", "-", input=(
            f"table netdev {TABLE} {{\n  chain {device} {{\n"
            f"    type filter hook ingress device \"{device}\" priority 0;\n"
            f"    limit rate over {rate_bytes} bytes/second burst {egress[1]} bytes drop\n  }}\n}}\n"))


def forget(ns: str, device: str) -> None:
    """A device that is gone: its policing chain goes too (a qdisc goes with its device)."""
    netns.execute(ns, "nft", "delete", "chain", "netdev", TABLE, device, check=False)


def shown(ns: str, device: str) -> dict:
    """What ``tc`` and nft report on ``device``: its qdiscs, and the rules of its
    policing chain (for tests and diagnosis)."""
    qdiscs = json.loads(netns.execute(ns, "tc", "-j", "qdisc", "show", "dev", device) or "[]")
    listed = json.loads(netns.execute(ns, "nft", "-j", "list", "chain", "netdev", TABLE, device,
                                      check=False) or '{"nftables": []}')
    rules = [item["rule"] for item in listed.get("nftables", []) if "rule" in item]
    return {"qdiscs": qdiscs, "policing": rules}
