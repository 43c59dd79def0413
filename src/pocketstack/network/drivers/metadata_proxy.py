"""The metadata proxy: 169.254.169.254:80 for the guests of the networks a namespace serves.

What Neutron does with a haproxy per router or DHCP namespace and its metadata agent.  A
namespace served is a listening socket made inside it (it stays in that namespace while
the agent's threads use it) and the networks whose guests it answers: a router's
(its NAT table redirects ``169.254.169.254:80`` to :data:`PORT`, where the socket
listens on every address), or an isolated network's DHCP namespace (which holds
169.254.169.254 itself; the socket listens on it, port 80).  For each connection the
proxy finds the instance by the guest's address among the ports of those networks (the
caller's ``lookup``), drops whatever
``X-Instance-ID``/``X-Tenant-ID``/signature/``X-Forwarded-For`` headers the guest sent,
adds its own, signed with the shared secret (:mod:`pocketstack.metadata.signing`), and
relays the request to the metadata API (``metadata_listen``:``metadata_listen_port``, in
the agent's namespace) and the answer back, one request per connection.  An address that
is no instance's gets a 404 without reaching the API.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable

from pocketstack.common import netns
from pocketstack.metadata import signing

LOG = logging.getLogger(__name__)
ADDRESS = "169.254.169.254"
PORT = 9697  # Neutron's
MAX_HEAD = 16384
OWN_HEADERS = {h.lower() for h in (signing.INSTANCE_ID, signing.TENANT_ID, signing.SIGNATURE,
                                   signing.FORWARDED_FOR, "Connection")}
NOT_FOUND = b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nNot Found\n"

# (networks, guest address) -> (instance id, project id), None for no instance
Lookup = Callable[[frozenset[str], str], "tuple[str, str] | None"]


class MetadataProxy:
    def __init__(self, upstream: tuple[str, int], secret: Callable[[], str]):
        self.upstream = upstream
        self.secret = secret
        #: who an address is (set by the datapath driver that runs the proxy)
        self.lookup: Lookup = lambda networks, address: None
        self._listeners: dict[str, socket.socket] = {}  # namespace -> its listening socket
        self._networks: dict[str, frozenset[str]] = {}  # namespace -> the networks it serves
        self._lock = threading.Lock()

    def serve(self, ns: str, networks: Iterable[str], bind: tuple[str, int] = ("0.0.0.0", PORT)) -> None:
        """Listen in ``ns`` on ``bind`` (once) for the guests of ``networks`` (as of this call)."""
        with self._lock:
            self._networks[ns] = frozenset(networks)
            if ns in self._listeners:
                return

            def make() -> socket.socket:
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(bind)
                listener.listen(64)
                return listener

            listener = netns.inside(ns, make, "metadata proxy socket")
            self._listeners[ns] = listener
        threading.Thread(target=self._accept, args=(ns, listener), name=f"metadata proxy {ns}",
                         daemon=True).start()

    def stop(self, ns: str) -> None:
        with self._lock:
            listener = self._listeners.pop(ns, None)
            self._networks.pop(ns, None)
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def namespaces(self) -> set[str]:
        with self._lock:
            return set(self._listeners)

    def _accept(self, ns: str, listener: socket.socket) -> None:
        while True:
            try:
                conn, peer = listener.accept()
            except OSError:
                return  # stopped
            with self._lock:
                networks = self._networks.get(ns, frozenset())
            threading.Thread(target=self._handle, args=(conn, peer[0], networks), daemon=True).start()

    def _handle(self, conn: socket.socket, address: str, networks: frozenset[str]) -> None:
        with conn:
            conn.settimeout(30)
            try:
                head, rest = _read_head(conn)
                found = self.lookup(networks, address)
                if head is None or found is None:
                    conn.sendall(NOT_FOUND)
                    return
                instance_id, project_id = found
                added = signing.headers(self.secret(), instance_id, project_id)
                added[signing.FORWARDED_FOR] = address
                with socket.create_connection(self.upstream, timeout=30) as upstream:
                    upstream.sendall(_rewrite(head, added) + rest)
                    _relay(conn, upstream)
            except OSError as error:
                LOG.warning("metadata proxy: request from %s on networks %s failed: %s", address,
                            ", ".join(sorted(networks)), error)


def _read_head(conn: socket.socket) -> tuple[bytes | None, bytes]:
    """The request line and headers (None if there is no complete head), and what came after."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > MAX_HEAD:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _rewrite(head: bytes, added: dict[str, str]) -> bytes:
    request, *headers = head.split(b"\r\n")
    kept = [h for h in headers if h.split(b":", 1)[0].strip().lower().decode(errors="replace") not in OWN_HEADERS]
    kept += [f"{name}: {value}".encode() for name, value in added.items()] + [b"Connection: close"]
    return b"\r\n".join([request, *kept]) + b"\r\n\r\n"


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """The request's body on to the API, and its answer back, until the API closes."""
    def forward() -> None:
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                upstream.sendall(chunk)
    threading.Thread(target=forward, daemon=True).start()
    while chunk := upstream.recv(65536):
        client.sendall(chunk)
    # The answer is complete: end the connection now (this also wakes ``forward``, which
    # a close alone would leave waiting for the guest, holding the connection open).
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)
