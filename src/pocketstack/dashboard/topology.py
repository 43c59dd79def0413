"""The network topology picture: networks as vertical bars, routers and instances as
boxes to their right, a line from a box to every network it has a port on (a router's
external gateway included).  Laid out here, drawn as SVG by ``topology.html``; built
only from what the Networking and Compute APIs return to the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BAR_GAP, BAR_WIDTH, TOP = 64, 26, 20
ROW, BOX_WIDTH, BOX_HEIGHT, BOX_GAP = 54, 200, 34, 48


@dataclass
class Bar:
    id: str
    name: str
    x: int
    external: bool

    @property
    def centre(self) -> int:
        return self.x + BAR_WIDTH // 2


@dataclass
class Box:
    kind: str  # "router" or "server"
    id: str
    name: str
    x: int
    y: int
    networks: list[str] = field(default_factory=list)

    @property
    def middle(self) -> int:
        return self.y + BOX_HEIGHT // 2


@dataclass
class Picture:
    bars: list[Bar]
    boxes: list[Box]
    width: int
    height: int

    def lines(self) -> list[tuple[int, int, int]]:
        """(x of the network's bar, x of the box, y): one line per connection."""
        at = {bar.id: bar.centre for bar in self.bars}
        return [(at[n], box.x, box.middle) for box in self.boxes for n in box.networks if n in at]


def layout(networks: list[dict[str, Any]], routers: list[dict[str, Any]], servers: list[dict[str, Any]],
           ports: list[dict[str, Any]]) -> Picture:
    """Place what the user sees.  Networks with nothing of the project on them and not
    the project's own are left out (the shared and external networks of other projects)."""
    attached: dict[str, list[str]] = {}
    for port in ports:
        if port.get("device_id"):
            attached.setdefault(port["device_id"], []).append(port["network_id"])
    for router in routers:
        gateway = (router.get("external_gateway_info") or {}).get("network_id")
        if gateway:
            attached.setdefault(router["id"], []).append(gateway)
    used = {n for nets in attached.values() for n in nets}
    shown = [n for n in sorted(networks, key=lambda n: (not n.get("router:external"), n["name"]))
             if n["id"] in used or n.get("owned")]
    bars = [Bar(n["id"], n["name"] or n["id"], TOP + i * BAR_GAP, bool(n.get("router:external")))
            for i, n in enumerate(shown)]
    left = TOP + len(bars) * BAR_GAP + BOX_GAP
    devices = [("router", r) for r in sorted(routers, key=lambda r: r["name"])] + \
              [("server", s) for s in sorted(servers, key=lambda s: s["name"])]
    boxes = [Box(kind, d["id"], d["name"] or d["id"], left, TOP + 40 + i * ROW, sorted(set(attached.get(d["id"], []))))
             for i, (kind, d) in enumerate(devices)]
    height = max(160, TOP + 40 + len(boxes) * ROW + TOP)
    return Picture(bars, boxes, left + BOX_WIDTH + TOP, height)
