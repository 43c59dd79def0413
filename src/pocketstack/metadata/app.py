"""The metadata API as an ASGI app: what the network datapath's proxy forwards guests'
requests to 169.254.169.254 to (Nova's ``nova-api-metadata``, ``handler.py``).

Only ``GET /`` (the EC2 versions) is answered to anyone.  Every other request must come
through the proxy, which vouches for it with signed headers (:mod:`.signing`), checked
in Nova's order and with its answers: a header missing (or given twice) is a 400, a
wrong signature a 403, an instance that does not exist -- or whose project is not the
``X-Tenant-ID`` the proxy sent -- a 404, and so is a path or version the trees do not
have.  No request is ever trusted for its source address.  Only GET and HEAD are served
(405 otherwise).  Errors are plain text, as Nova's WebOb errors are to ``curl``.

Instance data comes through the compute contract and the network contract; there are no
Keystone tokens here, so this is a small app of its own rather than a service's API.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pocketstack.metadata import ec2, paths, signing
from pocketstack.metadata.content import GuestMetadata, build_metadata
from pocketstack.metadata.tree import PathNotFound, render

if TYPE_CHECKING:
    from pocketstack.compute.contract import ComputeContract
    from pocketstack.network.contract import NetworkContract

LOG = logging.getLogger(__name__)
UNKNOWN_ERROR = "An unknown error has occurred. Please try your request again."


class Refused(Exception):
    """The request is answered with ``status`` and a plain-text ``explanation``."""

    def __init__(self, status: int, explanation: str = ""):
        super().__init__(explanation)
        self.status = status
        self.explanation = explanation


NOT_FOUND = "The resource could not be found."  # WebOb's words, as Nova answers


def error(status: int, explanation: str = "") -> Response:
    """Nova's (WebOb's) plain-text error: the status line, then the explanation."""
    text = f"{status} {HTTPStatus(status).phrase}\n\n{explanation or HTTPStatus(status).description}\n\n"
    return PlainTextResponse(text, status_code=status)


def signed_instance(request: Request, secret: str) -> tuple[str, str]:
    """The instance id and project the proxy vouches for; :class:`Refused` otherwise."""
    found = {name: request.headers.getlist(name) for name in (signing.INSTANCE_ID, signing.SIGNATURE,
                                                              signing.TENANT_ID)}
    for name, values in found.items():
        if not values:
            raise Refused(400, f"{name} header is missing from request.")
    for name in (signing.INSTANCE_ID, signing.TENANT_ID):
        if len(found[name]) > 1:
            raise Refused(400, f"Multiple {name} headers found within request.")
    instance_id, tenant_id = found[signing.INSTANCE_ID][0], found[signing.TENANT_ID][0]
    if not secret:
        LOG.error("metadata request for instance %s refused: no metadata_proxy_shared_secret is configured",
                  instance_id)
        raise Refused(403, "Invalid proxy request signature.")
    if not signing.verify(secret, instance_id, found[signing.SIGNATURE][-1]):
        LOG.warning("%s does not match the expected signature for id %s; request from %s",
                    signing.SIGNATURE, instance_id, request.headers.get(signing.FORWARDED_FOR))
        raise Refused(403, "Invalid proxy request signature.")
    return instance_id, tenant_id


class MetadataApp:
    """The app's state: the contracts it reads through and the proxy's shared secret."""

    def __init__(self, compute: ComputeContract, network: NetworkContract | None, secret: str,
                 dhcp_domain: str):
        self.compute = compute
        self.network = network
        self.secret = secret
        self.dhcp_domain = dhcp_domain
        if not secret:
            LOG.error("the metadata API has no metadata_proxy_shared_secret: it refuses every request")

    def metadata(self, instance_id: str, tenant_id: str, address: str | None) -> GuestMetadata:
        """What the instance's guest reads (blocking); 404 unless it exists in ``tenant_id``."""
        instance = self.compute.guest_instance(instance_id)
        if instance is None:
            LOG.error("failed to get metadata for instance id: %s", instance_id)
            raise Refused(404, NOT_FOUND)
        if instance.project_id != tenant_id:
            LOG.warning("tenant_id %s does not match tenant_id of instance %s", tenant_id, instance_id)
            raise Refused(404, NOT_FOUND)
        return build_metadata(instance, self.network, self.dhcp_domain, address)

    async def serve(self, request: Request) -> Response:
        path = request.path_params["path"]
        if paths.is_root(path):
            return PlainTextResponse(render([*ec2.VERSIONS, ec2.LATEST]))
        try:
            instance_id, tenant_id = signed_instance(request, self.secret)
            md = await run_in_threadpool(self.metadata, instance_id, tenant_id,
                                         request.headers.get(signing.FORWARDED_FOR))
            answer = paths.lookup(md, path)
        except Refused as refused:
            return error(refused.status, refused.explanation)
        except PathNotFound:
            return error(404, NOT_FOUND)
        except Exception:
            LOG.exception("failed to get metadata for %s", path)
            return error(500, UNKNOWN_ERROR)
        return Response(answer.body, media_type=answer.content_type)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.serve, methods=["GET"])])


def build_app(compute: ComputeContract, network: NetworkContract | None, secret: str,
              dhcp_domain: str) -> Starlette:
    return MetadataApp(compute, network, secret, dhcp_domain).asgi()
