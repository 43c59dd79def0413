"""``pocketstack object dispersion``: how many copies of a sample of containers and
objects are where the ring says they should be (Swift's swift-dispersion-report).

The sample is taken from the container databases found on the devices and the
objects they list; each is looked up on its primaries and the copies found counted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pocketstack.object.brokers import ContainerBroker, db_path
from pocketstack.object.layout import Cluster
from pocketstack.object.nodes import Nodes


@dataclass
class Found:
    queried: int = 0
    copies_expected: int = 0
    copies_found: int = 0
    missing: dict[int, int] = field(default_factory=dict)  # copies missing -> how many items
    partitions: set = field(default_factory=set)

    @property
    def percent(self) -> float:
        return 100.0 * self.copies_found / self.copies_expected if self.copies_expected else 100.0

    def add(self, partition: int, expected: int, found: int) -> None:
        self.queried += 1
        self.copies_expected += expected
        self.copies_found += found
        self.partitions.add(partition)
        self.missing[expected - found] = self.missing.get(expected - found, 0) + 1


@dataclass
class Report:
    containers: Found
    objects: Found
    container_partitions: int
    object_partitions: int
    seconds: float

    def text(self) -> str:
        lines = []
        for kind, found, total in (("container", self.containers, self.container_partitions),
                                   ("object", self.objects, self.object_partitions)):
            lines.append(f"Queried {found.queried} {kind}s for dispersion reporting, {self.seconds:.0f}s, 0 retries")
            for missing, count in sorted(found.missing.items()):
                if missing:
                    copies = "copy" if missing == 1 else "copies"
                    lines.append(f"There were {count} partitions missing {missing} {copies}.")
            lines.append(f"{found.percent:.2f}% of {kind} copies found ({found.copies_found} of "
                         f"{found.copies_expected})")
            lines.append(f"Sample represents {100.0 * len(found.partitions) / total:.2f}% of the {kind} "
                         f"partition space")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """``container`` and ``object``: copies queried, expected and found, the percent
        found, items by copies missing, and the share of the partition space sampled."""
        def part(found: Found, total: int) -> dict[str, Any]:
            data = asdict(found)
            data.pop("partitions")
            data["percent"] = round(found.percent, 2)
            data["partitions_sampled_percent"] = round(100.0 * len(found.partitions) / total, 2) if total else 0.0
            return data

        return {"container": part(self.containers, self.container_partitions),
                "object": part(self.objects, self.object_partitions), "seconds": round(self.seconds, 3)}

    def json(self) -> str:
        return json.dumps(self.as_dict())


def _container_names(cluster: Cluster, limit: int) -> list[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for device in cluster.local_devices():
        for root, _dirs, files in os.walk(device / "containers"):
            for name in files:
                if name.endswith(".db") and len(names) < limit:
                    info = ContainerBroker(Path(root) / name).info()
                    if info and not info["deleted"]:
                        ids = json.loads(info["name"])
                        names.add((ids["account"], ids["container"]))
    return sorted(names)


def report(cluster: Cluster, sample: int = 100) -> Report:
    started = time.monotonic()
    containers, objects = Found(), Found()
    nodes = Nodes()
    try:
        for account, container in _container_names(cluster, sample):
            locations = cluster.primaries("container", account, container)
            found = [loc for loc in locations if db_path(loc.directory).exists()]
            containers.add(locations[0].partition, len(locations), len(found))
            if objects.queried >= sample or not found:
                continue
            for row in ContainerBroker(db_path(found[0].directory)).list(limit=sample - objects.queried):
                obj_locations = cluster.primaries("object", account, container, row["name"])
                copies = sum(1 for loc in obj_locations if nodes.client_for(loc, account, container, row["name"])
                             .object_state(loc).timestamp == row["created_at"])
                objects.add(obj_locations[0].partition, len(obj_locations), copies)
    finally:
        nodes.close()
    return Report(containers, objects, cluster.rings["container"].partition_count,
                  cluster.rings["object"].partition_count, time.monotonic() - started)
