"""Serving the metadata API on its own listener (``metadata_listen``:``metadata_listen_port``,
Nova's 8775): beside the cloud's APIs in ``pocketstack up``, or alone in ``pocketstack
metadata`` (scaled out).  Either way its instance data comes from the compute and network
contracts of a :class:`~pocketstack.cloud.Cloud` in the same process."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import uvicorn

from pocketstack.common.config import Settings
from pocketstack.metadata.app import build_app
from pocketstack.metadata.secret import shared_secret

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from pocketstack.cloud import Cloud


def metadata_app(cloud: Cloud, create_secret: bool = False) -> Starlette:
    """The metadata API over ``cloud``'s contracts (it must run the compute service)."""
    compute = cloud.compute
    if compute is None:
        raise ValueError("the metadata API needs the compute service in this process")
    settings = cloud.settings
    return build_app(compute, cloud.network, shared_secret(settings, create=create_secret), settings.dhcp_domain)


def listen(settings: Settings) -> socket.socket:
    """The metadata API's listening socket, bound before anything starts so that a port in
    use fails the command at once (``ValueError``: the CLI prints it)."""
    host, port = settings.metadata_listen, settings.metadata_listen_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise ValueError(f"the metadata API cannot listen on {host}:{port} (metadata_listen, "
                         f"metadata_listen_port): {error}") from None


def server(app: Starlette, settings: Settings, beside_another: bool = False) -> uvicorn.Server:
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                            timeout_keep_alive=int(settings.client_socket_timeout))
    return Beside(config) if beside_another else uvicorn.Server(config)


class Beside(uvicorn.Server):
    """A server running beside the process's main one (the metadata API, the TLS
    listener), which alone handles signals and tells this one when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_beside(main: uvicorn.Server, besides: list[tuple[uvicorn.Server, socket.socket]],
               main_sockets: list[socket.socket] | None = None) -> None:
    """Run ``main`` (on ``main_sockets`` if given) and the servers beside it, each on its
    socket, in one loop (the one ``main.run()`` would make: uvloop where installed)
    until ``main`` stops."""
    with asyncio.Runner(loop_factory=main.config.get_loop_factory()) as runner:
        runner.run(_serve_beside(main, besides, main_sockets))


async def _serve_beside(main: uvicorn.Server, besides: list[tuple[uvicorn.Server, socket.socket]],
                        main_sockets: list[socket.socket] | None) -> None:
    tasks = [asyncio.create_task(other.serve(sockets=[sock])) for other, sock in besides]
    try:
        await main.serve(sockets=main_sockets)
    finally:
        for other, _ in besides:
            other.should_exit = True
        await asyncio.gather(*tasks)
