"""A flavor's service profiles (Neutron's ``flavors`` sub-resource): ``POST
/v2.0/flavors/{id}/service_profiles`` with ``{"service_profile": {"id": ...}}`` binds a
profile (201, the body echoed as Neutron's API reference shows it), ``DELETE
.../service_profiles/{profile_id}`` unbinds it (204).  Admins only; the policy is checked
before the flavor and profile are looked up (404 for either missing), as Neutron does.
The flavors and profiles themselves are plain collections (:mod:`.resources`)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.network.api.schemas import SERVICE_PROFILE_BINDING_BODY
from pocketstack.network.manager import NetworkManager

BINDINGS = "/v2.0/flavors/{flavor_id}/service_profiles"


class FlavorServiceProfilesApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    @route.post(BINDINGS, policy="create_flavor_service_profile", body=SERVICE_PROFILE_BINDING_BODY,
                authorize_first=True)
    def bind(self, req: ApiRequest):
        req.authorize(target={"project_id": req.caller.project_id})
        profile_id = self.manager.bind_service_profile(req.caller, req.path_params["flavor_id"],
                                                       req.data["service_profile"]["id"])
        return json_response({"service_profile": {"id": profile_id}}, status=201)

    @route.delete(BINDINGS + "/{profile_id}", policy="delete_flavor_service_profile")
    def unbind(self, req: ApiRequest):
        req.authorize(target={"project_id": req.caller.project_id})
        self.manager.unbind_service_profile(req.caller, req.path_params["flavor_id"], req.path_params["profile_id"])
        return Response(status_code=204)
