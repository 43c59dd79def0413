"""The nftables table that meters a router's traffic for the metering labels that apply
to it (Neutron's metering agent does the same with iptables chains in the router's
namespace): one named counter per label rule, in a table of its own.

A label meters the traffic through the router's gateway device (``qg-…``), as Neutron's
iptables metering driver does (a router without a gateway meters nothing): ``ingress``
is what comes in on it, ``egress`` what goes out.  A ``remote_ip_prefix`` is the outside
address (the source of ingress, the destination of egress); ``source_ip_prefix`` and
``destination_ip_prefix`` match as they say, in either direction.  Each label has a
chain the forward hook jumps to: its ``excluded`` rules first, each counting what it
leaves out and returning, then the others, each counting and returning -- a packet
counts once per label at most, and not at all when an excluded rule matches it first::

    table inet pocketstack-metering {
      counter r_<rule id> { }                      # one per rule
      chain forward { type filter hook forward priority filter; policy accept;
                      jump l_<label id> }          # one jump per label
      chain l_<label id> {
        oifname "qg-…" ip daddr 172.31.5.1/32 counter name "r_<excluded rule>" return
        oifname "qg-…" ip daddr 172.31.5.0/24 counter name "r_<rule>" return
      }
    }
"""

from __future__ import annotations

import ipaddress
import json

TABLE = "pocketstack-metering"


def applies(label: dict, router: dict) -> bool:
    """A shared label meters every router, another its own project's."""
    return bool(label.get("shared")) or label.get("project_id") == router.get("project_id")


def counter_name(rule_id: str) -> str:
    return "r_" + rule_id.replace("-", "_")


def _chain(label_id: str) -> str:
    return "l_" + label_id.replace("-", "_")


def _match(rule: dict, gateway_device: str) -> str | None:
    """The nft match of a rule's traffic, or None when it can match nothing (source and
    destination of different IP versions)."""
    ingress = rule["direction"] == "ingress"
    device = f'{"iifname" if ingress else "oifname"} "{gateway_device}"'
    matches: list[tuple[str, str]] = []  # (saddr|daddr, prefix)
    if rule.get("remote_ip_prefix"):
        matches.append(("saddr" if ingress else "daddr", rule["remote_ip_prefix"]))
    if rule.get("source_ip_prefix"):
        matches.append(("saddr", rule["source_ip_prefix"]))
    if rule.get("destination_ip_prefix"):
        matches.append(("daddr", rule["destination_ip_prefix"]))
    networks = [(field, ipaddress.ip_network(prefix, strict=False)) for field, prefix in matches]
    if not networks or len({n.version for _, n in networks}) != 1:
        return None
    family = "ip" if networks[0][1].version == 4 else "ip6"
    return " ".join([device, *(f"{family} {field} {network}" for field, network in networks)])


def ruleset(labels: list[dict], gateway_device: str | None) -> str:
    """The router namespace's metering table for ``labels`` (those that apply to it,
    each with its ``rules``); without a gateway device or a label, no table."""
    lines = [f"table inet {TABLE}", f"delete table inet {TABLE}"]
    if gateway_device is None or not labels:
        return "\n".join(lines) + "\n"
    ordered = sorted(labels, key=lambda label: label["id"])
    lines.append(f"table inet {TABLE} {{")
    for label in ordered:
        lines += [f"  counter {counter_name(rule['id'])} {{ }}" for rule in label.get("rules") or []]
    lines += ["  chain forward {", "    type filter hook forward priority filter; policy accept;"]
    lines += [f"    jump {_chain(label['id'])}" for label in ordered]
    lines.append("  }")
    for label in ordered:
        lines.append(f"  chain {_chain(label['id'])} {{")
        rules = sorted(label.get("rules") or [], key=lambda rule: (not rule.get("excluded"), rule["id"]))
        for rule in rules:
            match = _match(rule, gateway_device)
            if match is not None:
                lines.append(f'    {match} counter name "{counter_name(rule["id"])}" return')
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def read_counters(listing: str) -> dict[str, tuple[int, int]]:
    """``nft -j list counters table inet pocketstack-metering`` -> rule id -> (packets,
    bytes)."""
    counters = {}
    for item in json.loads(listing or "{}").get("nftables", []):
        counter = item.get("counter")
        if counter and counter.get("name", "").startswith("r_"):
            rule_id = counter["name"][2:].replace("_", "-")
            counters[rule_id] = (int(counter.get("packets", 0)), int(counter.get("bytes", 0)))
    return counters
