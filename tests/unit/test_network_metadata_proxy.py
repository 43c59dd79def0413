"""The metadata proxy with real sockets (no namespace: one connection handled as the
listener in a router or DHCP namespace hands it over) and the routers' NAT rule."""

from __future__ import annotations

import socket
import threading

from pocketstack.metadata import signing
from pocketstack.network.drivers import nft_rules
from pocketstack.network.drivers.metadata_proxy import PORT, MetadataProxy

REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"


def upstream() -> tuple[socket.socket, list[bytes]]:
    """A one-shot HTTP server on loopback that records what it was sent."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            seen.append(data)
            conn.sendall(REPLY)
    threading.Thread(target=serve, daemon=True).start()
    return server, seen


def ask(proxy: MetadataProxy, request: bytes, address: str) -> bytes:
    guest, handed = socket.socketpair()
    worker = threading.Thread(target=proxy._handle, args=(handed, address, frozenset({"net-1"})))
    worker.start()
    guest.sendall(request)
    answer = b""
    while chunk := guest.recv(4096):
        answer += chunk
    worker.join(5)
    guest.close()
    return answer


def test_a_guest_request_is_signed_for_its_instance_and_relayed():
    server, seen = upstream()
    proxy = MetadataProxy(server.getsockname(), lambda: "s3cret")
    proxy.lookup = lambda networks, address: ("vm-1", "project-1") \
        if (networks, address) == ({"net-1"}, "10.0.0.5") else None
    forged = (b"GET /openstack/latest/meta_data.json HTTP/1.1\r\nHost: 169.254.169.254\r\n"
              b"X-Instance-ID: someone-else\r\nx-tenant-id: other\r\nConnection: keep-alive\r\n\r\n")
    assert ask(proxy, forged, "10.0.0.5") == REPLY
    head = seen[0].decode()
    assert head.startswith("GET /openstack/latest/meta_data.json HTTP/1.1\r\nHost: 169.254.169.254\r\n")
    assert "someone-else" not in head and "other" not in head and "keep-alive" not in head
    assert f"{signing.INSTANCE_ID}: vm-1\r\n" in head and f"{signing.TENANT_ID}: project-1\r\n" in head
    assert f"{signing.SIGNATURE}: {signing.sign('s3cret', 'vm-1')}\r\n" in head
    assert f"{signing.FORWARDED_FOR}: 10.0.0.5\r\n" in head and "Connection: close\r\n" in head
    server.close()


def test_an_address_that_is_no_instance_gets_a_404_without_reaching_the_api():
    server, seen = upstream()
    proxy = MetadataProxy(server.getsockname(), lambda: "s3cret")
    answer = ask(proxy, b"GET / HTTP/1.0\r\n\r\n", "10.0.0.99")
    assert answer.startswith(b"HTTP/1.0 404 ") and seen == []
    server.close()


def test_the_router_redirects_the_metadata_address_to_the_proxy():
    rules = nft_rules.nat_ruleset(None, None, [], [], PORT)
    assert f"ip daddr 169.254.169.254 tcp dport 80 redirect to :{PORT}" in rules
    assert "169.254.169.254" not in nft_rules.nat_ruleset(None, None, [], [])
