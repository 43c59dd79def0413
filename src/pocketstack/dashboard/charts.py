"""Quota usage as bars: what the overview draws (server-rendered SVG, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Bar:
    """``used`` of ``limit`` (a limit below zero means unlimited)."""

    label: str
    used: int
    limit: int
    unit: str = ""

    @property
    def percent(self) -> float:
        if self.limit < 0:
            return 0.0
        if self.limit == 0:
            return 100.0 if self.used else 0.0
        return min(100.0, round(100.0 * self.used / self.limit, 1))

    @property
    def level(self) -> str:
        return "full" if self.percent >= 100 else "warn" if self.percent >= 80 else "ok"

    @property
    def text(self) -> str:
        limit = "unlimited" if self.limit < 0 else f"{self.limit}{self.unit}"
        return f"{self.used}{self.unit} of {limit}"


def compute_bars(absolute: dict[str, Any]) -> list[Bar]:
    """Nova's ``/limits`` absolute block."""
    pairs = [("Instances", "totalInstancesUsed", "maxTotalInstances", ""),
             ("vCPUs", "totalCoresUsed", "maxTotalCores", ""),
             ("RAM", "totalRAMUsed", "maxTotalRAMSize", " MB"),
             ("Server groups", "totalServerGroupsUsed", "maxServerGroups", "")]
    return [Bar(label, int(absolute.get(used, 0)), int(absolute[limit]), unit)
            for label, used, limit, unit in pairs if limit in absolute]


def volume_bars(absolute: dict[str, Any]) -> list[Bar]:
    """Cinder's ``/limits`` absolute block."""
    pairs = [("Volumes", "totalVolumesUsed", "maxTotalVolumes", ""),
             ("Volume storage", "totalGigabytesUsed", "maxTotalVolumeGigabytes", " GB"),
             ("Snapshots", "totalSnapshotsUsed", "maxTotalSnapshots", "")]
    return [Bar(label, int(absolute.get(used, 0)), int(absolute[limit]), unit)
            for label, used, limit, unit in pairs if limit in absolute]


NETWORK_LABELS = {"network": "Networks", "subnet": "Subnets", "port": "Ports", "router": "Routers",
                  "floatingip": "Floating IPs", "security_group": "Security groups",
                  "security_group_rule": "Security group rules"}


def network_bars(details: dict[str, Any]) -> list[Bar]:
    """Neutron's ``/quotas/{project}/details`` (used and limit per resource)."""
    return [Bar(label, int(details[key].get("used", 0)), int(details[key]["limit"]))
            for key, label in NETWORK_LABELS.items() if key in details]
