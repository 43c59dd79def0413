"""How the metadata proxy vouches for a request: the headers it adds and their signature.

The proxy in front of a guest's network (Neutron's metadata agent; here the network
datapath's) knows which instance a request comes from and adds ``X-Instance-ID``,
``X-Tenant-ID`` (the instance's project) and ``X-Instance-ID-Signature``: the hex
HMAC-SHA256 of the instance id keyed with the shared secret (Neutron's and Nova's
``metadata_proxy_shared_secret``).  The metadata API trusts a request only with a right
signature, never for its source address.
"""

from __future__ import annotations

import hashlib
import hmac

INSTANCE_ID = "X-Instance-ID"
TENANT_ID = "X-Tenant-ID"
SIGNATURE = "X-Instance-ID-Signature"
FORWARDED_FOR = "X-Forwarded-For"  # the guest's address, as the proxy saw it (logged)


def sign(secret: str, instance_id: str) -> str:
    """The ``X-Instance-ID-Signature`` of ``instance_id``."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def headers(secret: str, instance_id: str, project_id: str) -> dict[str, str]:
    """The headers the proxy adds to a guest's request for ``instance_id``."""
    return {INSTANCE_ID: instance_id, TENANT_ID: project_id, SIGNATURE: sign(secret, instance_id)}


def verify(secret: str, instance_id: str, signature: str) -> bool:
    """Whether ``signature`` is ``instance_id``'s (constant time); never with no secret."""
    return bool(secret) and hmac.compare_digest(sign(secret, instance_id).encode(), signature.encode())
