"""The dashboard's pure parts: quota bars, the topology layout, reading any service's
error body, and the rule that it reaches the cloud only through the public APIs."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx

from pocketstack.cloud import SERVICES
from pocketstack.dashboard import charts, topology
from pocketstack.dashboard.client import error_message

DASHBOARD = Path(__file__).resolve().parents[2] / "src" / "pocketstack" / "dashboard"


def test_bars_say_used_of_limit_and_warn_when_nearly_full():
    assert charts.Bar("vCPUs", 3, 20).text == "3 of 20" and charts.Bar("vCPUs", 3, 20).level == "ok"
    assert charts.Bar("RAM", 900, 1000, " MB").level == "warn"
    assert charts.Bar("x", 12, 10).percent == 100.0 and charts.Bar("x", 12, 10).level == "full"
    unlimited = charts.Bar("x", 5, -1)
    assert unlimited.percent == 0.0 and unlimited.text == "5 of unlimited"
    assert charts.Bar("x", 0, 0).percent == 0.0


def test_quota_sources_become_bars():
    bars = charts.compute_bars({"maxTotalInstances": 10, "totalInstancesUsed": 2, "maxTotalCores": 20})
    assert [(b.label, b.used, b.limit) for b in bars] == [("Instances", 2, 10), ("vCPUs", 0, 20)]
    network = charts.network_bars({"network": {"used": 1, "limit": 100, "reserved": 0}})
    assert [(b.label, b.used) for b in network] == [("Networks", 1)]


def test_topology_connects_devices_to_their_networks():
    networks = [{"id": "n1", "name": "blue", "owned": True}, {"id": "ext", "name": "public", "router:external": True},
                {"id": "other", "name": "someone else's"}]
    routers = [{"id": "r1", "name": "r1", "external_gateway_info": {"network_id": "ext"}}]
    servers = [{"id": "s1", "name": "web"}]
    ports = [{"device_id": "r1", "network_id": "n1"}, {"device_id": "s1", "network_id": "n1"},
             {"device_id": "dhcp1", "network_id": "n1"}]
    picture = topology.layout(networks, routers, servers, ports)
    assert [b.name for b in picture.bars] == ["public", "blue"]  # external first; unrelated left out
    assert [(b.kind, b.name, b.networks) for b in picture.boxes] == [("router", "r1", ["ext", "n1"]),
                                                                    ("server", "web", ["n1"])]
    assert len(picture.lines()) == 3
    assert all(x1 < x2 for x1, x2, _y in picture.lines())
    assert picture.width > max(b.x for b in picture.boxes) and picture.height > max(b.y for b in picture.boxes)


def _response(status: int, **kwargs) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/"), **kwargs)


def test_error_messages_of_every_service_format():
    assert error_message(_response(400, json={"badRequest": {"message": "Invalid flavor", "code": 400}})) == \
        "Invalid flavor"
    assert error_message(_response(404, json={"error": {"code": 404, "message": "No such user"}})) == "No such user"
    assert error_message(_response(409, json={"NeutronError": {"type": "X", "message": "In use", "detail": ""}})) == \
        "In use"
    assert error_message(_response(400, json={"errors": [{"status": 400, "title": "Bad", "detail": "why"}]})) == "why"
    assert error_message(_response(400, text="400 Bad Request\n\nThe name is too long.\n")) == "The name is too long."
    assert error_message(_response(413, text="<html><h1>Too big</h1></html>")) == "Too big"
    assert error_message(_response(500, text="")) == "500 Internal Server Error"


def test_the_dashboard_reaches_services_only_through_their_public_apis():
    """No import of a service's code (not even its contract) and no use of the cloud's
    contracts, database of services or managers: only ``api_client``."""
    crossings = []
    for path in DASHBOARD.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            crossings += [f"{path.name} imports {m}" for m in modules if m.split(".")[:2][-1] in SERVICES]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and \
                    node.value.attr == "cloud" and node.attr not in ("api_client", "settings", "db"):
                crossings.append(f"{path.name} uses cloud.{node.attr}")
    assert not crossings
