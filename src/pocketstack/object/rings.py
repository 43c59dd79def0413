"""First start of an all-in-one object store: devices and rings created once.

The all-in-one cloud simulates ``devices`` disks as directories and builds the
account, container and object rings over them with the ring builder, so data is
placed exactly as a real cluster would place it.  Existing rings are never touched:
an operator may have rebalanced them with ``pocketstack ring``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pocketstack.object.layout import KINDS, LOOPBACK, Cluster
from pocketstack.object.ring import RingBuilder

SUFFIX_FILE = "hash_path_suffix"


def ensure_cluster(root: Path, *, devices: int, replicas: int, part_power: int, port: int) -> str:
    """Create missing device dirs, builders and rings under ``root``; return the hash suffix."""
    root.mkdir(parents=True, exist_ok=True)
    suffix_file = root / SUFFIX_FILE
    if not suffix_file.exists():
        suffix_file.write_text(secrets.token_hex(8))
    for index in range(1, devices + 1):
        (root / "devices" / f"d{index}").mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        builder_file, ring_file = root / f"{kind}.builder", root / f"{kind}.ring.gz"
        if ring_file.exists():
            continue
        builder = RingBuilder(part_power, min(replicas, devices), min_part_hours=0)
        for index in range(1, devices + 1):
            builder.add_dev(region=1, zone=index, ip="127.0.0.1", port=port, device=f"d{index}", weight=100)
        builder.rebalance(seed=1)
        builder.save(builder_file)
        builder.write_ring(ring_file)
    return suffix_file.read_text().strip()


def open_cluster(root: Path) -> Cluster:
    """The cluster a data directory's object store already has (for offline tools)."""
    suffix_file = root / SUFFIX_FILE
    if not suffix_file.exists():
        raise ValueError(f"no object store in {root} (start the cloud once first)")
    suffix = suffix_file.read_text().strip()
    return Cluster(root, suffix, own_port=_own_port(Cluster(root, suffix)))


def _own_port(cluster: Cluster) -> int | None:
    """The port of the cloud owning ``root``: that of a loopback ring device whose
    directory is here (other loopback ports are storage nodes on this machine)."""
    for ring in cluster.rings.values():
        for dev in ring.devs:
            if dev and dev["ip"] in LOOPBACK and dev["port"] and cluster.device_path(dev).is_dir():
                return dev["port"]
    return None
