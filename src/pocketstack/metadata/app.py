"""The metadata API as an ASGI app: what the network datapath's proxy forwards guests'
requests to 169.254.169.254 to (Nova's ``nova-api-metadata``, ``handler.py``).

Only ``GET /`` (the EC2 versions) is answered to anyone.  Every other request must come
through the proxy, which vouches for it with signed headers (:mod:`.signing`), checked
in Nova's order and with its answers: a header missing (or given twice) is a 400, a
wrong signature a 403, an instance that does not exist -- or whose project is not the
``X-Tenant-ID`` the proxy sent -- a 404, and so is a path or version the trees do not
have.  No request is ever trusted for its source address.  GET and HEAD are served, and
POST of ``/openstack/<version>/password`` -- the guest's one write, as in Nova (405
otherwise).  Errors are plain text, as Nova's WebOb errors are to ``curl``.

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

from pocketstack.metadata import ec2, openstack, paths, signing
from pocketstack.metadata.content import GuestMetadata, build_metadata
from pocketstack.metadata.tree import PathNotFound, render

if TYPE_CHECKING:
    from pocketstack.compute.contract import ComputeContract
    from pocketstack.network.contract import NetworkContract

LOG = logging.getLogger(__name__)
UNKNOWN_ERROR = "An unknown error has occurred. Please try your request again."
PASSWORD_MAX = 256  # Nova's metadata password MAX_SIZE


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
        if request.method == "POST" and not paths.is_password(path):
            return error(405)
        if paths.is_root(path):
            return PlainTextResponse(render([*ec2.VERSIONS, ec2.LATEST]))
        try:
            instance_id, tenant_id = signed_instance(request, self.secret)
            md = await run_in_threadpool(self.metadata, instance_id, tenant_id,
                                         request.headers.get(signing.FORWARDED_FOR))
            if request.method == "POST":
                if not openstack.has_password(paths.tokens(path)[1]):
                    raise PathNotFound(path)
                return await self.post_password(request, md)
            answer = paths.lookup(md, path)
        except Refused as refused:
            return error(refused.status, refused.explanation)
        except PathNotFound:
            return error(404, NOT_FOUND)
        except Exception:
            LOG.exception("failed to get metadata for %s", path)
            return error(500, UNKNOWN_ERROR)
        return Response(answer.body, media_type=answer.content_type)

    async def post_password(self, request: Request, md: GuestMetadata) -> Response:
        """Nova's ``handle_password``: the guest posts its (encrypted) admin password once;
        256 bytes at most (400), a second post while one is kept is a 409."""
        if md.instance.password:
            raise Refused(409)
        body = await request.body()
        if len(body) > PASSWORD_MAX:
            raise Refused(400, "Request is too large.")
        if not await run_in_threadpool(self.compute.set_password, md.instance.id, body.decode(errors="replace")):
            raise Refused(409)
        return Response(b"", media_type="text/plain")

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.serve, methods=["GET", "POST"])])


def build_app(compute: ComputeContract, network: NetworkContract | None, secret: str,
              dhcp_domain: str) -> Starlette:
    return MetadataApp(compute, network, secret, dhcp_domain).asgi()
