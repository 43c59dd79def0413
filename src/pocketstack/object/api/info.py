"""``GET /info``: the capabilities a client may discover before using the cluster;
``GET /healthcheck``: Swift's liveness probe for load balancers (``OK``)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.object import expirer
from pocketstack.object.api import bulk, extract, formpost, large, listing, metadata, names, objects, symlinks, tempurl
from pocketstack.object.syncrealms import SyncRealms

CAPABILITIES = {
    "swift": {
        "version": "2.34.0", "max_file_size": objects.MAX_OBJECT_SIZE,
        "max_object_name_length": names.MAX_OBJECT_NAME, "max_container_name_length": names.MAX_CONTAINER_NAME,
        "max_meta_name_length": metadata.MAX_NAME, "max_meta_value_length": metadata.MAX_VALUE,
        "max_meta_count": metadata.MAX_COUNT, "max_meta_overall_size": metadata.MAX_TOTAL,
        "container_listing_limit": listing.LIMIT, "account_listing_limit": listing.LIMIT,
        "policies": [{"name": "Policy-0", "default": True}], "strict_cors_mode": True,
    },
    "tempurl": {"methods": list(tempurl.METHODS), "allowed_digests": sorted(tempurl.DIGESTS),
                "incoming_remove_headers": [], "outgoing_remove_headers": ["x-object-meta-*"],
                "outgoing_allow_headers": [tempurl.PUBLIC_METADATA + "*"]},
    "bulk_delete": {"max_deletes_per_request": bulk.MAX_DELETES, "max_failed_deletes": bulk.MAX_DELETES},
    "bulk_upload": {"max_containers_per_extraction": extract.MAX_CONTAINERS,
                    "max_failed_extractions": extract.MAX_FAILED},
    "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
    # pocketstack's own key (Swift's expirer is not in /info): where the queue lives.
    "object_expirer": {"expiring_objects_account": expirer.QUEUE_ACCOUNT,
                       "expiring_objects_container_divisor": expirer.DIVISOR},
    "slo": {"max_manifest_segments": large.MAX_SEGMENTS, "max_manifest_size": large.MAX_MANIFEST,
            "min_segment_size": 1},
    "dlo": {"max_segments": 10000},
    "container_quotas": {},
    "account_quotas": {},
    "crossdomain": {},
    "staticweb": {},
    "formpost": {"allowed_digests": formpost.DIGESTS, "deprecated_digests": formpost.DEPRECATED_DIGESTS},
    "symlink": {"symloop_max": symlinks.SYMLOOP_MAX, "static_links": True},
}


class InfoApi:
    """What anyone may ask without a token; ``realms``: the container sync realms listed."""

    def __init__(self, realms: SyncRealms | None = None):
        self.capabilities = {**CAPABILITIES, "container_sync": {"realms": (realms or SyncRealms()).info()}}

    @route.get("/info", public=True)
    def info(self, req: ApiRequest) -> Response:
        return json_response(self.capabilities, headers={"Content-Type": "application/json; charset=utf-8"})

    @route.get("/healthcheck", public=True)
    @route.head("/healthcheck", public=True)
    def healthcheck(self, req: ApiRequest) -> Response:
        return Response(b"OK" if req.method == "GET" else b"", media_type="text/plain",
                        headers={"Content-Length": "2"})
