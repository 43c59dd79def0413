"""Security groups and anti-spoofing as nftables rulesets (pure: dicts in, text out).

Two tables in the host namespace of the datapath (a :class:`HostRuleset`), written in one
``nft -f`` transaction, so a reader never sees a half-applied ruleset: whole
(``table …; delete table …; table … {…}``), or, when only chains, map entries and sets
changed, as an update of just those (:meth:`HostRuleset.changes_from`):

* ``table bridge pocketstack``, on the bridges' forward hook before ``br_netfilter``
  (priority -200): it sees which bridge port (tap device) a frame enters and leaves by,
  and its layer 2.  For each filtered port (maps ``from-port``/``to-port``: tap name ->
  chain), ``from-<port>`` drops VLAN-tagged frames and frames whose source MAC, ARP
  sender or IP source is not the port's (fixed IPs, allowed address pairs; a DHCP client's 0.0.0.0 allowed) and
  puts the port's number in the low 16 bits of the packet mark; ``to-<port>`` puts the
  receiver's number in the high 16 bits.  A port keeps its number while it exists.
* ``table inet pocketstack``, on the forward hook that ``br_netfilter`` runs for bridged
  IP traffic: stateful (conntrack works here on every kernel; in the bridge family it
  needs ``nf_conntrack_bridge``, often not built).  The mark picks (maps ``egress``/
  ``ingress``) ``egress-<port>`` of the sender and ``ingress-<port>`` of the receiver:
  established/related accepted, invalid dropped, a jump to each of the port's groups'
  chains ``sg-<group>-egress``/``-ingress`` (one ``accept`` per security-group rule),
  then drop.  The sender's and the receiver's chains hang off two base chains (forward
  priorities 0 and 1), so an accept on egress still lets the ingress side judge; a
  group's rules exist once, however many ports it has.  Remote groups are named sets
  ``sg-<group>-v4``/``-v6`` of the members' addresses: plain sets (an element added or
  deleted alone) unless a member has a CIDR (an allowed address pair), then interval
  sets that merge overlaps, rewritten whole when they change (nftables cannot delete
  one element of a merged interval).  Remote address groups are named sets
  ``ag-<group>-v4``/``-v6`` of the group's CIDRs, always interval sets (so adding or
  removing addresses rewrites that set's elements in place, in the update's one
  transaction, never the tables), for every address group a known rule names (a group
  the driver does not know yet is an empty set: its rules allow nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

TABLE = "pocketstack"
# Neutron's protocol names and what nftables calls them (numbers pass through).
_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "ipv6-icmp", "icmpv6": "ipv6-icmp",
              "sctp": "sctp", "udplite": "udplite", "gre": "gre", "esp": "esp", "ah": "ah", "dccp": "dccp",
              "igmp": "igmp", "ipip": "4", "ipv6-encap": "41", "vrrp": "112", "ospf": "89", "pgm": "113",
              "rsvp": "46", "egp": "8", "icmp6": "ipv6-icmp"}
_PORTS = {"tcp", "udp", "sctp", "udplite", "dccp"}
_ETHER = {"IPv4": "ip", "IPv6": "ip6"}
MAX_PORTS = 0xFFFF  # a port's number fills half of the 32-bit packet mark


def tag(port_id: str) -> str:
    """The 11 characters of a port id that name its devices and chains (Neutron's)."""
    return port_id[:11]


def protected(port: dict) -> bool:
    """Whether the port's traffic is filtered: a guest's port with port security on."""
    owner = port.get("device_owner") or ""
    return not owner.startswith("network:") and port.get("port_security_enabled", True) is not False


def port_addresses(port: dict) -> list[str]:
    """What the port may send from: fixed IPs and allowed address pairs (CIDRs allowed)."""
    found = [f["ip_address"] for f in port.get("fixed_ips") or []]
    found += [pair["ip_address"] for pair in port.get("allowed_address_pairs") or []]
    return found


def port_macs(port: dict) -> list[str]:
    macs = [port["mac_address"].lower()]
    for pair in port.get("allowed_address_pairs") or []:
        mac = (pair.get("mac_address") or port["mac_address"]).lower()
        if mac not in macs:
            macs.append(mac)
    return macs


def _split(addresses: Iterable[str]) -> tuple[list[str], list[str]]:
    v4: list[str] = []
    v6: list[str] = []
    for address in addresses:
        network = ipaddress.ip_network(address, strict=False)
        (v4 if network.version == 4 else v6).append(str(network) if network.num_addresses > 1
                                                    else str(network.network_address))
    return v4, v6


def _elements(values: list[str]) -> str:
    return "{ " + ", ".join(values) + " }"


def link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address a MAC gives (allowed as a source for ND)."""
    parts = [int(x, 16) for x in mac.split(":")]
    parts[0] ^= 0x02
    eui = parts[:3] + [0xFF, 0xFE] + parts[3:]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def rule_match(rule: dict) -> str | None:
    """The nftables match of one security-group rule (without the verdict), or None if
    nftables cannot express it here (then the rule allows nothing, failing closed)."""
    family = _ETHER.get(rule.get("ethertype") or "IPv4")
    if family is None:
        return None
    parts = ["meta nfproto " + ("ipv4" if family == "ip" else "ipv6")]
    peer = "saddr" if rule["direction"] == "ingress" else "daddr"
    if rule.get("remote_ip_prefix"):
        network = ipaddress.ip_network(rule["remote_ip_prefix"], strict=False)
        if (network.version == 4) != (family == "ip"):
            return None
        if network.prefixlen:
            parts.append(f"{family} {peer} {network}")
    elif rule.get("remote_group_id"):
        parts.append(f"{family} {peer} @sg-{rule['remote_group_id']}-{'v4' if family == 'ip' else 'v6'}")
    elif rule.get("remote_address_group_id"):
        parts.append(f"{family} {peer} @ag-{rule['remote_address_group_id']}-{'v4' if family == 'ip' else 'v6'}")
    protocol = rule.get("protocol")
    if protocol in (None, "", "any"):
        return " ".join(parts)
    protocol = str(protocol).lower()
    name = _PROTOCOLS.get(protocol, protocol if protocol.isdigit() else None)
    if name is None:
        return None
    if family == "ip6" and name in ("icmp", "1", "58"):
        name = "ipv6-icmp"  # Neutron: "icmp" in an IPv6 rule means ICMPv6
    if family == "ip" and name == "ipv6-icmp":
        return None
    parts.append(f"meta l4proto {name}")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if name in _PORTS and low is not None:
        parts.append(f"{name} dport {low}" if high in (None, low) else f"{name} dport {low}-{high}")
    elif name in ("icmp", "ipv6-icmp") and low is not None:
        keyword = "icmp" if name == "icmp" else "icmpv6"
        parts.append(f"{keyword} type {low}")
        if high is not None:
            parts.append(f"{keyword} code {high}")
    return " ".join(parts)


def _spoof_chains(port: dict, number: int) -> dict[str, list[str]]:
    """Layer 2 (bridge family): the port may send only from its MACs and addresses; on
    success its number goes into the low half of the packet mark."""
    t = tag(port["id"])
    v4, v6 = _split(port_addresses(port))
    v6 = v6 + [link_local(m) for m in port_macs(port)]
    rules = [f"ether saddr != {_elements(port_macs(port))} drop",
             # No VLAN tag onto the port's network (a trunk's tagged frames never get here:
             # the subports' VLAN devices take them first), so none leaves by a flat uplink.
             "ether type { 8021q, 8021ad } drop",
             f"meta mark set meta mark or {number:#x}",
             # A DHCP client has no address yet: DISCOVER/REQUEST from 0.0.0.0.
             "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return",
             "ether type ip6 ip6 saddr :: return"]  # duplicate address detection
    rules.append(f"arp saddr ip != {_elements(v4)} drop" if v4 else "ether type arp drop")
    rules.append(f"ether type ip ip saddr != {_elements(v4)} drop" if v4 else "ether type ip drop")
    rules.append(f"ether type ip6 ip6 saddr != {_elements(v6)} drop")
    return {f"from-{t}": rules, f"to-{t}": [f"meta mark set meta mark or {number << 16:#x}"]}


def _filter_chains(port: dict) -> dict[str, list[str]]:
    """Layer 3 (inet family, stateful): the port's egress and ingress chains, which jump
    to its groups' chains.  Each direction has its own base chain, so an ``accept`` (in a
    group's chain too) ends only the sender's verdict: the receiver's chain still runs."""
    t = tag(port["id"])
    groups = port.get("security_groups") or []
    egress = ["ct state established,related accept",
              "ct state invalid drop",
              "meta l4proto udp udp sport 68 udp dport 67 accept",
              "meta l4proto udp udp sport 67 drop",  # no rogue DHCP servers
              "meta l4proto udp udp sport 546 udp dport 547 accept",
              "meta l4proto udp udp sport 547 drop",
              "meta l4proto ipv6-icmp icmpv6 type nd-router-advert drop",
              "meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
              "nd-router-solicit, mld-listener-report, mld2-listener-report } accept"]
    ingress = ["ct state established,related accept",
               "ct state invalid drop",
               "meta l4proto udp udp sport 67 udp dport 68 accept",
               "meta l4proto udp udp sport 547 udp dport 546 accept",
               "meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
               "nd-router-advert, mld-listener-query } accept"]
    return {f"egress-{t}": [*egress, *(f"jump sg-{g}-egress" for g in groups), "drop"],
            f"ingress-{t}": [*ingress, *(f"jump sg-{g}-ingress" for g in groups), "drop"]}


def _group_chains(group_id: str, group: dict | None) -> dict[str, list[str]]:
    """A security group's rules, one ``accept`` each, by direction (empty for a group the
    driver does not know yet: it allows nothing)."""
    chains: dict[str, list[str]] = {f"sg-{group_id}-egress": [], f"sg-{group_id}-ingress": []}
    for rule in (group or {}).get("security_group_rules") or []:
        match = rule_match(rule)
        if match is not None:
            chains[f"sg-{group_id}-{'egress' if rule['direction'] == 'egress' else 'ingress'}"].append(
                f"{match} accept")
    return chains


def group_members(ports: Iterable[dict]) -> dict[str, tuple[list[str], list[str]]]:
    """Each security group's members' addresses (IPv4, IPv6): the remote-group sets."""
    members: dict[str, list[str]] = {}
    for port in ports:
        for group_id in port.get("security_groups") or []:
            members.setdefault(group_id, []).extend(port_addresses(port))
    return {group_id: _split(addresses) for group_id, addresses in members.items()}


def _replace(family: str, name: str) -> list[str]:
    return [f"table {family} {name}", f"delete table {family} {name}", f"table {family} {name} {{"]


def zone(network_id: str) -> int:
    """The network's conntrack zone: stable (from its id, so adding a network does not
    renumber the others' connections), 1-65535."""
    return int(network_id.replace("-", "")[:8], 16) % 65535 + 1


@dataclass(frozen=True)
class HostRuleset:
    """The host namespace's two tables, split by what an update may change alone.

    ``bases`` (per family: the base chains, which only look things up in named sets and
    maps) and the declarations of the sets and maps kept are the skeleton: a change
    there (a remote-group set that turns to intervals or back) replaces both tables.
    Everything else is written as an update of just what changed: ``chains``' rules (a
    port's addresses or groups; a group's rules: its chain pair), chains added or
    deleted with their entries in the verdict maps (a filtered port added or removed:
    ports keep their ``numbers``), the ``sets``' elements (a remote group's membership,
    the ports set down, the networks' conntrack zones), sets added or deleted (a group
    created or deleted)."""

    bases: dict[str, tuple[str, ...]]  # family -> lines of its base chains, in table order
    chains: dict[tuple[str, str], tuple[str, ...]]  # (family, regular chain) -> its rules
    sets: dict[tuple[str, str], tuple[str, tuple[str, ...]]]  # (family, set or map) -> (declaration, elements)
    numbers: dict[str, int] = field(default_factory=dict, compare=False)  # filtered port id -> its mark number

    def text(self) -> str:
        """Both tables whole: the ``nft -f`` input that makes them exactly this."""
        lines: list[str] = []
        for family in ("bridge", "inet"):
            lines += _replace(family, TABLE)
            lines += ["  " + self._set(key) for key in self.sets if key[0] == family]
            lines += ["  " + line for line in self.bases[family]]
            for (chain_family, name), rules in self.chains.items():
                if chain_family == family:
                    lines += [f"  chain {name} {{", *("    " + rule for rule in rules), "  }"]
            lines.append("}")
        return "\n".join(lines) + "\n"

    def _set(self, key: tuple[str, str], outside: bool = False) -> str:
        """A set's or map's declaration with its elements (``outside`` a table block)."""
        declaration, elements = self.sets[key]
        content = f" elements = {_elements(list(elements))};" if elements else ""
        kind = "map" if " : " in declaration else "set"
        where = f"{key[0]} {TABLE} " if outside else ""
        return f"{kind} {where}{key[1]} {{ {declaration}{content} }}"

    def _skeleton(self, sets: Iterable[tuple[str, str]]) -> tuple:
        return self.bases, {key: self.sets[key][0] for key in sets}

    def changes_from(self, old: HostRuleset) -> str | None:
        """The ``nft -f`` input that turns ``old`` (as applied) into this by touching only
        what differs, in an order where nothing refers to what does not exist yet or any
        more; "" if nothing differs, None if the skeleton does (then only :meth:`text`)."""
        kept = self.sets.keys() & old.sets.keys()
        if self._skeleton(kept) != old._skeleton(kept):
            return None
        lines = ["add " + self._set(key, outside=True) for key in self.sets if key not in old.sets]
        for (family, name), rules in self.chains.items():  # new chains, and changed ones
            if old.chains.get((family, name)) != rules:
                if (family, name) in old.chains:
                    lines.append(f"flush chain {family} {TABLE} {name}")
                lines += [f"table {family} {TABLE} {{", f"  chain {name} {{", *("    " + rule for rule in rules),
                          "  }", "}"]
        for key in (key for key in self.sets if key in kept):
            (declaration, elements), before = self.sets[key], old.sets[key][1]
            if elements == before:
                continue
            where = f"{key[0]} {TABLE} {key[1]}"
            if "interval" in declaration:  # merged intervals cannot lose one element alone
                lines.append(f"flush set {where}")
                gone, added = [], list(elements)
            else:
                gone, added = sorted(set(before) - set(elements)), sorted(set(elements) - set(before))
            if gone:  # a map's element is deleted by its key
                lines.append(f"delete element {where} {_elements([e.split(' : ')[0] for e in gone])}")
            if added:
                lines.append(f"add element {where} {_elements(added)}")
        # Last, once no map entry or rule refers to them: chains that went (in reverse, so
        # a port's chain goes before its group's) and sets.
        lines += [f"delete chain {family} {TABLE} {name}" for family, name in reversed(old.chains)
                  if (family, name) not in self.chains]
        lines += [f"delete set {family} {TABLE} {name}" for family, name in old.sets
                  if (family, name) not in self.sets]
        return "\n".join(lines) + "\n" if lines else ""


def _address_group_sets(groups: dict[str, dict], address_groups: dict[str, dict]) -> dict:
    """The sets of the address groups the groups' rules name: (family, set) -> (declaration,
    elements), interval sets whatever their elements (see the module docstring)."""
    named = sorted({rule["remote_address_group_id"] for group in groups.values()
                    for rule in group.get("security_group_rules") or [] if rule.get("remote_address_group_id")})
    sets = {}
    for group_id in named:
        v4, v6 = _split((address_groups.get(group_id) or {}).get("addresses") or [])
        for kind, suffix, elements in (("ipv4_addr", "v4", v4), ("ipv6_addr", "v6", v6)):
            sets[("inet", f"ag-{group_id}-{suffix}")] = (f"type {kind}; flags interval; auto-merge;",
                                                          tuple(sorted(set(elements))))
    return sets


def _remote_set(kind: str, addresses: list[str]) -> tuple[str, tuple[str, ...]]:
    elements = tuple(sorted(set(addresses)))
    if any("/" in element for element in elements):
        return f"type {kind}; flags interval; auto-merge;", elements
    return f"type {kind};", elements


def _numbered(guarded: list[dict], previous: dict[str, int]) -> list[tuple[int, dict]]:
    """Each filtered port's mark number: the one it had (so that adding or removing a port
    changes no other port's chains), else the lowest free one."""
    if len(guarded) > MAX_PORTS:
        raise ValueError(f"{len(guarded)} filtered ports on one host: the datapath numbers at most {MAX_PORTS}")
    ids = {p["id"] for p in guarded}
    numbers = {port_id: number for port_id, number in previous.items() if port_id in ids}
    taken = set(numbers.values())
    free = (n for n in range(1, MAX_PORTS + 1) if n not in taken)
    for port in guarded:
        if port["id"] not in numbers:
            numbers[port["id"]] = next(free)
    return sorted(((numbers[p["id"]], p) for p in guarded), key=lambda pair: pair[0])


def ruleset(ports: Iterable[dict], groups: dict[str, dict], networks: Iterable[str] = (),
            numbers: dict[str, int] | None = None, address_groups: dict[str, dict] | None = None) -> HostRuleset:
    """The host namespace's two tables for these ports, groups and networks; ``numbers``:
    the ports' mark numbers applied last (``HostRuleset.numbers``), kept; ``address_groups``:
    the address groups the rules may name as their remote.

    ``networks`` (ids) get a conntrack zone each: a connection routed between two
    networks crosses the host namespace twice with the same addresses, once per bridge,
    and must be two conntrack entries.  With ``br_netfilter`` the inet hooks see the
    bridge as the input device, so the zone follows the bridge."""
    ports = sorted(ports, key=lambda p: p["id"])
    guarded = _numbered([p for p in ports if protected(p)], numbers or {})
    bridge = ("chain forward {", "  type filter hook forward priority -200; policy accept;", "  meta mark set 0x0",
              # admin_state_up false: the port passes nothing, either way (Neutron's agents
              # take the device down; the tap is QEMU's, so its frames are dropped instead).
              "  iifname @down drop", "  oifname @down drop",
              "  iifname vmap @from-port", "  oifname vmap @to-port", "}")
    inet = ("chain zone {", "  type filter hook prerouting priority raw; policy accept;",
            "  ct zone set iifname map @zones", "}",
            "chain forward-egress {", "  type filter hook forward priority 0; policy accept;",
            "  meta mark and 0xffff vmap @egress", "}",
            "chain forward-ingress {", "  type filter hook forward priority 1; policy accept;",
            "  meta mark and 0xffff0000 vmap @ingress", "}")
    sets: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
        ("bridge", "down"): ("type ifname;", tuple(sorted(f'"tap{tag(p["id"])}"' for p in ports
                                                          if p.get("admin_state_up") is False))),
        ("inet", "zones"): ("typeof iifname : ct zone;", tuple(f'"br-{tag(n)}" : {zone(n)}' for n in sorted(networks))),
        ("bridge", "from-port"): ("type ifname : verdict;", tuple(f'"tap{tag(p["id"])}" : jump from-{tag(p["id"])}'
                                                                  for _, p in guarded)),
        ("bridge", "to-port"): ("type ifname : verdict;", tuple(f'"tap{tag(p["id"])}" : jump to-{tag(p["id"])}'
                                                              for _, p in guarded)),
        ("inet", "egress"): ("type mark : verdict;", tuple(f"{number:#x} : jump egress-{tag(p['id'])}"
                                                           for number, p in guarded)),
        ("inet", "ingress"): ("type mark : verdict;", tuple(f"{number << 16:#x} : jump ingress-{tag(p['id'])}"
                                                            for number, p in guarded))}
    sets.update(_address_group_sets(groups, address_groups or {}))
    chains: dict[tuple[str, str], tuple[str, ...]] = {}
    used = set(groups) | {g for p in ports for g in p.get("security_groups") or []}
    members = group_members(ports)
    for group_id in sorted(used):
        v4, v6 = members.get(group_id, ([], []))
        sets[("inet", f"sg-{group_id}-v4")] = _remote_set("ipv4_addr", v4)
        sets[("inet", f"sg-{group_id}-v6")] = _remote_set("ipv6_addr", v6)
        # Before the ports' chains: an update creates a chain before what jumps to it.
        chains.update({("inet", name): tuple(rules)
                       for name, rules in _group_chains(group_id, groups.get(group_id)).items()})
    for number, port in guarded:
        chains.update({("bridge", name): tuple(rules) for name, rules in _spoof_chains(port, number).items()})
    for _, port in guarded:
        chains.update({("inet", name): tuple(rules) for name, rules in _filter_chains(port).items()})
    return HostRuleset({"bridge": bridge, "inet": inet}, chains, sets,
                       {p["id"]: number for number, p in guarded})


def nat_ruleset(gateway_device: str | None, gateway_ip: str | None, snat_cidrs: list[str],
                floating: list[tuple[str, str]], metadata_port: int | None = None) -> str:
    """A router namespace's NAT table: floating IPs as 1:1 DNAT/SNAT (pairs of floating,
    fixed address), the tenant subnets SNATed to the gateway address, and (with
    ``metadata_port``) the guests' 169.254.169.254:80 redirected to the metadata proxy."""
    lines = [f"table ip {TABLE}-nat", f"delete table ip {TABLE}-nat", f"table ip {TABLE}-nat {{",
             "  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"]
    if metadata_port:
        lines.append(f"    ip daddr 169.254.169.254 tcp dport 80 redirect to :{metadata_port}")
    lines += [f"    ip daddr {fip} dnat to {fixed}" for fip, fixed in sorted(floating)]
    lines += ["  }", "  chain output {", "    type nat hook output priority -100; policy accept;"]
    lines += [f"    ip daddr {fip} dnat to {fixed}" for fip, fixed in sorted(floating)]
    lines += ["  }", "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
    if gateway_device:
        lines += [f'    oifname "{gateway_device}" ip saddr {fixed} snat to {fip}' for fip, fixed in sorted(floating)]
        if gateway_ip and snat_cidrs:
            lines.append(f'    oifname "{gateway_device}" ip saddr {_elements(sorted(snat_cidrs))} '
                         f"snat to {gateway_ip}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"
