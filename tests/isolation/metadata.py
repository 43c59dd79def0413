"""The metadata API in the isolation matrix: a guest reads only its own server, whatever
the proxy's headers claim.

The API takes no token: the datapath's proxy vouches for a request with the instance id
signed by the shared secret and the instance's project in ``X-Tenant-ID``.  Nova's
``nova/api/metadata/handler.py`` (``_get_meta_by_instance_id``) answers 404 when that
project is not the instance's, so a rightly signed request naming the wrong project
reads nothing -- not another project's server, nor one's own under another project's
name.  Each cell signs for one project's server and claims one project.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketstack.metadata import signing

from conftest import unique
from isolation.compute import MICRO, SERVERS, wait_server
from isolation.matrix import Resource

SECRET = "isolation-metadata-secret"


def boot_b(w) -> dict:
    """An ACTIVE server of b_member's in project B."""
    response = w.call("POST", SERVERS, "b_member", headers=MICRO, json={"server": {
        "name": unique("iso-b-vm"), "imageRef": str(w.shared("boot_image")), "flavorRef": str(w.shared("flavor")),
        "networks": "none", "availability_zone": str(w.shared("zone"))}})
    server_id = response.json()["server"]["id"]
    wait_server(w, server_id)
    return {"id": server_id}


RESOURCES = [Resource("b_server", boot_b)]
OPS: list = []


@dataclass(frozen=True)
class Cell:
    server: str   # the resource whose id the proxy signs: "server" (project A's) or "b_server"
    tenant: str   # the project X-Tenant-ID claims: "a", "b" or "admin"
    status: int

    @property
    def id(self) -> str:
        return f"metadata:{self.server}:tenant_{self.tenant}"


CELLS = [Cell("server", "a", 200), Cell("server", "b", 404), Cell("server", "admin", 404),
         Cell("b_server", "a", 404), Cell("b_server", "b", 200), Cell("b_server", "admin", 404)]


def check(world, client, cell: Cell) -> None:
    server, project = world.shared(cell.server), world.project(cell.tenant)
    headers = signing.headers(SECRET, str(server), str(project))
    for path in ("/openstack/latest/meta_data.json", "/latest/meta-data/instance-id"):
        response = client.get(path, headers=headers)
        assert response.status_code == cell.status, \
            f"{cell.id} GET {path}: expected {cell.status}, got {response.status_code} {response.text[:200]}"
