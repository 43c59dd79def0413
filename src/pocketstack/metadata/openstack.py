"""The OpenStack tree a guest reads: ``/openstack/<version>/{meta_data.json, user_data,
password, vendor_data.json, network_data.json, vendor_data2.json}``, as Nova serves it
(``nova/api/metadata/base.py``).

Versions are dates; a file or a key of ``meta_data.json`` exists from the version that
introduced it on (``latest`` is the newest), and versions after today are served but
not listed.  ``vendor_data.json`` is ``{}`` and ``vendor_data2.json`` ``{"static": {}}``:
Nova's answers with its default StaticJSON provider and no vendor data file.
``password`` is what the guest posted there (once; ``os-server-password`` reads and clears
it), empty until then.  ``content/NNNN`` are the files injected with the server.
``devices`` lists the tagged volumes and ports (:func:`devices`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from pocketstack.metadata.tree import JSON, LATEST, Answer, PathNotFound, Versions, listing

if TYPE_CHECKING:
    from pocketstack.compute.contract import GuestInstance
    from pocketstack.metadata.content import GuestMetadata

FOLSOM, GRIZZLY, HAVANA, LIBERTY = "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"
NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY = "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27"
VICTORIA, EPOXY = "2020-10-14", "2025-04-04"
VERSIONS = (FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA, EPOXY)
TREE_VERSIONS = Versions(VERSIONS)

META_DATA, USER_DATA, PASSWORD = "meta_data.json", "user_data", "password"
CONTENT = "content"  # /openstack/content/NNNN: injected files (not versioned)
VENDOR_DATA, NETWORK_DATA, VENDOR_DATA2 = "vendor_data.json", "network_data.json", "vendor_data2.json"






def listed_versions(today: dt.date | None = None) -> list[str]:
    """``GET /openstack``: the versions up to today, then ``latest``."""
    day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    return [v for v in VERSIONS if v <= day] + [LATEST]


def meta_data(md: GuestMetadata, wanted: str) -> dict:
    """``meta_data.json`` of version ``wanted`` (a dated version or ``latest``)."""
    wanted = TREE_VERSIONS.resolve(wanted)
    inst = md.instance
    data: dict = {"uuid": inst.id}
    if inst.metadata:
        data["meta"] = dict(inst.metadata)
    if inst.key_name and inst.key_data:
        data["public_keys"] = {inst.key_name: inst.key_data}
        data["keys"] = [{"name": inst.key_name, "type": "ssh", "data": inst.key_data}]
    data.update(hostname=md.hostname, name=inst.name, launch_index=inst.launch_index,
                availability_zone=inst.availability_zone)
    if inst.injected_files:  # Nova's "files": each path and where its content is served
        data["files"] = [{"path": path, "content_path": f"/{CONTENT}/{index:04d}"}
                         for index, (path, _) in enumerate(inst.injected_files)]
    if TREE_VERSIONS.since(GRIZZLY, wanted):
        data["random_seed"] = md.random_seed
    if TREE_VERSIONS.since(LIBERTY, wanted):
        data["project_id"] = inst.project_id
    if TREE_VERSIONS.since(NEWTON_ONE, wanted):
        data["devices"] = devices(md, wanted)
    if TREE_VERSIONS.since(VICTORIA, wanted):
        data["dedicated_cpus"] = []
    return data


def devices(md: GuestMetadata, version: str) -> list[dict]:
    """``meta_data.json``'s ``devices``: the server's tagged disks (by volume id, Nova's
    ``serial``), then its tagged NICs (by MAC; ``vf_trusted`` from Rocky on), as Nova's
    libvirt driver exposes them: only tagged devices.  The bus and address are Nova's
    ``none``, its value when the driver reports no bus: the guest's PCI slots are QEMU's
    choice here and not recorded, so a guest finds a disk by its serial (a virtio disk's
    serial is the volume id's first 20 characters, as with Nova's libvirt driver) and a NIC
    by its MAC."""
    out: list[dict] = []
    for volume_id, tag in md.instance.volume_tags:
        out.append({"type": "disk", "serial": volume_id, "bus": "none", "address": "none", "tags": [tag]})
    for port_id, tag in md.instance.port_tags:
        mac = md.network.macs.get(port_id)
        if mac is None:  # detached meanwhile
            continue
        nic: dict = {"type": "nic", "mac": mac}
        if TREE_VERSIONS.since(ROCKY, version):
            nic["vf_trusted"] = False
        out.append({**nic, "bus": "none", "address": "none", "tags": [tag]})
    return out


def has_password(version: str) -> bool:
    """Whether version ``version``'s tree has ``password`` (Grizzly on); a version the
    tree does not have raises :class:`PathNotFound`."""
    return TREE_VERSIONS.since(GRIZZLY, TREE_VERSIONS.resolve(version))


def injected_content(inst: GuestInstance) -> list[tuple[str, bytes]]:
    """The injected files' contents by their ``content/`` names (``0000``, ``0001``…)."""
    return [(f"{index:04d}", content) for index, (_, content) in enumerate(inst.injected_files)]


def files(md: GuestMetadata, wanted: str) -> list[str]:
    """``GET /openstack/<version>``: the files of that version."""
    names = [META_DATA] + ([USER_DATA] if md.instance.user_data is not None else [])
    for first, name in ((GRIZZLY, PASSWORD), (HAVANA, VENDOR_DATA), (LIBERTY, NETWORK_DATA),
                        (NEWTON_TWO, VENDOR_DATA2)):
        if TREE_VERSIONS.since(first, wanted):
            names.append(name)
    return names


def lookup(md: GuestMetadata, tokens: list[str]) -> Answer:
    """The answer for ``/openstack/<tokens>``."""
    if not tokens:
        return listing(listed_versions())
    if tokens[0] == CONTENT:  # /openstack/content/NNNN: an injected file, as Nova serves it
        found = dict(injected_content(md.instance))
        if len(tokens) == 2 and tokens[1] in found:
            return Answer(found[tokens[1]])
        raise PathNotFound("/".join(tokens))
    wanted = TREE_VERSIONS.resolve(tokens[0])
    name = "/".join(tokens[1:])
    if not name:
        return listing(files(md, wanted))
    if name == META_DATA:
        return _json(meta_data(md, wanted))
    if name == USER_DATA and md.instance.user_data is not None:
        return Answer(md.instance.user_data)
    if name == PASSWORD and TREE_VERSIONS.since(GRIZZLY, wanted):
        return Answer(md.instance.password.encode())
    if name == VENDOR_DATA and TREE_VERSIONS.since(HAVANA, wanted):
        return _json({})
    if name == VENDOR_DATA2 and TREE_VERSIONS.since(NEWTON_TWO, wanted):
        return _json({"static": {}})
    if name == NETWORK_DATA:  # every version, and as text: Nova sets no JSON type for it
        return Answer(json.dumps(md.network.network_data).encode())
    raise PathNotFound(name)


def _json(value: dict) -> Answer:
    return Answer(json.dumps(value).encode(), JSON)
