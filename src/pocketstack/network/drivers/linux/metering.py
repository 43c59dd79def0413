"""Metering in the routers' namespaces, for :class:`~.driver.LinuxDriver`: each served
router gets the nftables table of the metering labels that apply to it
(:mod:`..metering_rules`), and the driver reads the counters back.

Replacing a router's metering table (a label or rule added or removed, the router's
gateway changed) starts its counters at zero, so the counts read just before are
carried over in memory: a rule's count is what it matched on every router since it was
made (or since the driver started).  :meth:`MeteringNamespaces.metering_counters` adds
them up per label; the agent reports them in its ``configurations``
(``metering_labels``: label id -> packets and bytes), as Neutron's metering agent
reports each label's traffic."""

from __future__ import annotations

import logging

from pocketstack.common import netns
from pocketstack.network.drivers import metering_rules
from pocketstack.network.drivers.linux.namespaces import Namespaces

LOG = logging.getLogger(__name__)
Counts = tuple[int, int]


class MeteringNamespaces(Namespaces):
    """The routers' metering tables and counters (the state: :class:`.Namespaces`)."""

    def _meter(self, ns: str, router: dict, gateway_device: str | None) -> None:
        """Apply the router's metering table when it changed, carrying its counts over."""
        labels = [label for label in self.metering_labels.values() if metering_rules.applies(label, router)]
        text = metering_rules.ruleset(labels, gateway_device)
        if not self._forced and self._metered.get(ns) == text:
            return
        for rule_id, counts in self._read(ns).items():
            self._carry(ns, rule_id, counts)
        netns.execute(ns, "nft", "-f", "-", input=text)
        self._metered[ns] = text

    def _carry(self, ns: str, rule_id: str, counts: Counts) -> None:
        packets, size = self._carried.get((ns, rule_id), (0, 0))
        self._carried[(ns, rule_id)] = (packets + counts[0], size + counts[1])

    def _metering_forget(self, wanted: set[str]) -> None:
        """Forget the namespaces no longer served, and the rules that are gone."""
        rules = {rule["id"] for label in self.metering_labels.values() for rule in label.get("rules") or []}
        for ns in [ns for ns in self._metered if ns not in wanted]:
            del self._metered[ns]
        for key in [key for key in self._carried if key[1] not in rules]:
            del self._carried[key]

    @staticmethod
    def _read(ns: str) -> dict[str, Counts]:
        if ns not in netns.namespaces():
            return {}
        listing = netns.execute(ns, "nft", "-j", "list", "counters", "table", "inet", metering_rules.TABLE,
                                check=False)
        try:
            return metering_rules.read_counters(listing)
        except ValueError:  # no table yet: nft says so on stderr, nothing on stdout
            return {}

    def metering_counters(self) -> dict[str, dict]:
        """Label id -> ``packets`` and ``bytes`` its rules counted (excluded rules'
        traffic apart, as ``excluded_packets``/``excluded_bytes``) and ``rules``: rule
        id -> its own ``packets`` and ``bytes``; over every router served here."""
        with self._lock:
            per_rule: dict[str, Counts] = {}
            for (_ns, rule_id), (packets, size) in self._carried.items():
                have = per_rule.get(rule_id, (0, 0))
                per_rule[rule_id] = (have[0] + packets, have[1] + size)
            for ns in self._metered:
                for rule_id, (packets, size) in self._read(ns).items():
                    have = per_rule.get(rule_id, (0, 0))
                    per_rule[rule_id] = (have[0] + packets, have[1] + size)
            result = {}
            for label_id, label in self.metering_labels.items():
                totals = {"packets": 0, "bytes": 0, "excluded_packets": 0, "excluded_bytes": 0}
                rules = {}
                for rule in label.get("rules") or []:
                    packets, size = per_rule.get(rule["id"], (0, 0))
                    rules[rule["id"]] = {"packets": packets, "bytes": size}
                    prefix = "excluded_" if rule.get("excluded") else ""
                    totals[prefix + "packets"] += packets
                    totals[prefix + "bytes"] += size
                result[label_id] = {**totals, "rules": rules}
            return result
