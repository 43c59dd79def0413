"""OS-ENDPOINT-POLICY: policy blobs associated with endpoints, services, and services
in a region (:mod:`pocketstack.identity.endpoint_policy`).

Each association route checks the policy, then the endpoint or the service (then the
region), each a 404 of its own when missing, before the association itself (Keystone's
keystone/api/policy.py); PUT and DELETE answer 204 whatever was there before.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.identity.api import render
from pocketstack.identity.manager import Identity

EXT = "/v3/policies/{policy_id}/OS-ENDPOINT-POLICY"
ENDPOINT = EXT + "/endpoints/{endpoint_id}"
SERVICE = EXT + "/services/{service_id}"
SERVICE_REGION = SERVICE + "/regions/{region_id}"


class EndpointPolicyApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.associations = identity.endpoint_policy

    def _target(self, req: ApiRequest) -> tuple[str, dict]:
        """The path's policy and target (endpoint, service, or service and region),
        each checked in Keystone's order."""
        params = req.path_params
        policy_id = params["policy_id"]
        self.identity.policy_store.get(policy_id)
        catalog = self.identity.catalog
        if "endpoint_id" in params:
            catalog.get_endpoint(params["endpoint_id"])
            return policy_id, {"endpoint_id": params["endpoint_id"]}
        catalog.get_service(params["service_id"])
        target = {"service_id": params["service_id"]}
        if "region_id" in params:
            catalog.get_region(params["region_id"])
            target["region_id"] = params["region_id"]
        return policy_id, target

    def _check(self, req: ApiRequest) -> None:
        req.authorize()
        policy_id, target = self._target(req)
        self.associations.check(policy_id, **target)

    def _associate(self, req: ApiRequest) -> None:
        req.authorize()
        policy_id, target = self._target(req)
        self.associations.associate(policy_id, **target)

    def _dissociate(self, req: ApiRequest) -> None:
        req.authorize()
        policy_id, target = self._target(req)
        self.associations.dissociate(policy_id, **target)

    # -- endpoints -----------------------------------------------------------------------
    @route.put(ENDPOINT, policy="identity:create_policy_association_for_endpoint")
    def associate_endpoint(self, req: ApiRequest) -> None:
        self._associate(req)

    @route.get(ENDPOINT, policy="identity:check_policy_association_for_endpoint")
    def check_endpoint(self, req: ApiRequest) -> None:
        self._check(req)

    @route.delete(ENDPOINT, policy="identity:delete_policy_association_for_endpoint")
    def dissociate_endpoint(self, req: ApiRequest) -> None:
        self._dissociate(req)

    # -- services ------------------------------------------------------------------------
    @route.put(SERVICE, policy="identity:create_policy_association_for_service")
    def associate_service(self, req: ApiRequest) -> None:
        self._associate(req)

    @route.get(SERVICE, policy="identity:check_policy_association_for_service")
    def check_service(self, req: ApiRequest) -> None:
        self._check(req)

    @route.delete(SERVICE, policy="identity:delete_policy_association_for_service")
    def dissociate_service(self, req: ApiRequest) -> None:
        self._dissociate(req)

    # -- services in a region ------------------------------------------------------------
    @route.put(SERVICE_REGION, policy="identity:create_policy_association_for_region_and_service")
    def associate_service_region(self, req: ApiRequest) -> None:
        self._associate(req)

    @route.get(SERVICE_REGION, policy="identity:check_policy_association_for_region_and_service")
    def check_service_region(self, req: ApiRequest) -> None:
        self._check(req)

    @route.delete(SERVICE_REGION, policy="identity:delete_policy_association_for_region_and_service")
    def dissociate_service_region(self, req: ApiRequest) -> None:
        self._dissociate(req)

    # -- resolution ----------------------------------------------------------------------
    @route.get(EXT + "/endpoints", policy="identity:list_endpoints_for_policy")
    def policy_endpoints(self, req: ApiRequest) -> dict:
        req.authorize()
        policy_id = req.path_params["policy_id"]
        self.identity.policy_store.get(policy_id)
        return render.collection(req.service_url, f"policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints", "endpoints",
                                 [render.endpoint(req.service_url, e)
                                  for e in self.associations.endpoints_for_policy(policy_id)])

    @route.get("/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy", policy="identity:get_policy_for_endpoint")
    def endpoint_policy(self, req: ApiRequest) -> dict:
        req.authorize()
        endpoint = self.identity.catalog.get_endpoint(req.path_params["endpoint_id"])
        return {"policy": render.policy(req.service_url, self.associations.policy_for_endpoint(endpoint))}
