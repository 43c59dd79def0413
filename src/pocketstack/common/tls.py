"""The API's TLS listener (``tls_port``; off by default): the cloud's APIs over HTTPS,
asking for client certificates when ``tls_client_ca_file`` names the CAs to trust.

The TLS handshake verifies the client's certificate (chain, validity period) against
those CAs, as Apache's ``SSLVerifyClient optional`` does in front of Keystone: a
certificate they did not issue, or an expired one, ends the handshake.  A verified
certificate reaches the app in the request's scope as the ASGI TLS extension
(``scope["extensions"]["tls"]``: ``client_cert_chain``, ``client_cert_name``…), which
uvicorn does not fill: :class:`PeerCertificateProtocol` reads the peer certificate
from the connection's SSL object once the handshake is done and wraps the app of that
connection to add it to each request's scope.  Requests on the plain port never carry
the extension, so nothing a client sends there can stand for a certificate.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from pocketstack.common.config import Settings

if TYPE_CHECKING:
    from cryptography import x509
else:  # on a client certificate's handshake, not at every start (≈50 ms)
    from pocketstack.common.lazy import lazy

    x509 = lazy("cryptography.x509")

# The ASGI TLS extension's tls_version: the TLS protocol's wire number.
TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The ASGI TLS extension of a connection whose handshake is done: the verified
    client certificate (PEM; none when the client sent none) and its subject."""
    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    name = x509.load_der_x509_certificate(der).subject.rfc4514_string() if der else None
    return {"server_cert": None, "client_cert_chain": chain, "client_cert_name": name, "client_cert_error": None,
            "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""), "cipher_suite": None}


if TYPE_CHECKING:  # uvicorn's choice (httptools when installed, else h11) is made at import
    from uvicorn.protocols.http.h11_impl import H11Protocol as HttpProtocol
else:
    HttpProtocol = AutoHTTPProtocol


class PeerCertificateProtocol(HttpProtocol):
    """uvicorn's HTTP protocol, adding the connection's TLS extension to every request's scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        extension = tls_extension(ssl_object)
        app: ASGIApp = self.app

        async def with_tls(scope: Scope, receive: Receive, send: Send) -> None:
            scope["extensions"] = {**scope.get("extensions", {}), "tls": extension}
            await app(scope, receive, send)

        self.app = with_tls


def listen(settings: Settings) -> socket.socket:
    """The TLS listener's socket on ``host``:``tls_port``, bound before anything starts
    (``ValueError``: the CLI prints it)."""
    if not settings.tls_cert_file or not settings.tls_key_file:
        raise ValueError("the TLS listener (tls_port) needs tls_cert_file and tls_key_file")
    try:  # as uvicorn will load them, so that a bad file stops the command before it serves
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
        if settings.tls_client_ca_file:
            context.load_verify_locations(settings.tls_client_ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"the TLS listener cannot load its certificates (tls_cert_file, tls_key_file, "
                         f"tls_client_ca_file): {error}") from None
    host, port = settings.host, settings.tls_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise ValueError(f"the TLS listener cannot listen on {host}:{port} (tls_port): {error}") from None


def config(app: Any, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration of the TLS listener serving ``app`` (the cloud's, whose
    lifespan the plain listener runs)."""
    return uvicorn.Config(
        app, http=PeerCertificateProtocol, log_config=None, access_log=False, lifespan="off",
        timeout_keep_alive=int(settings.client_socket_timeout),
        ssl_certfile=settings.tls_cert_file, ssl_keyfile=settings.tls_key_file,
        ssl_ca_certs=settings.tls_client_ca_file or None,
        ssl_cert_reqs=ssl.CERT_OPTIONAL if settings.tls_client_ca_file else ssl.CERT_NONE)
