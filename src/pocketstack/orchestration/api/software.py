"""``/software_configs`` and ``/software_deployments`` of a project."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.orchestration.api import schemas
from pocketstack.orchestration.api.common import authorize
from pocketstack.orchestration.manager import OrchestrationManager

CONFIGS = "/v1/{tenant_id}/software_configs"
DEPLOYMENTS = "/v1/{tenant_id}/software_deployments"


class SoftwareApi:
    def __init__(self, manager: OrchestrationManager):
        self.software = manager.software

    @route.get(CONFIGS, policy="software_configs:index")
    def configs(self, req: ApiRequest) -> dict:
        return {"software_configs": self.software.configs(authorize(req))}

    @route.post(CONFIGS, policy="software_configs:create", body=schemas.CONFIG, authorize_first=True)
    def create_config(self, req: ApiRequest) -> dict:
        return {"software_config": self.software.create_config(authorize(req), req.data)}

    @route.get(CONFIGS + "/{config_id}", policy="software_configs:show")
    def config(self, req: ApiRequest) -> dict:
        return {"software_config": self.software.config(authorize(req), req.path_params["config_id"])}

    @route.delete(CONFIGS + "/{config_id}", policy="software_configs:delete", status=204)
    def delete_config(self, req: ApiRequest) -> None:
        self.software.delete_config(authorize(req), req.path_params["config_id"])

    @route.get(DEPLOYMENTS, policy="software_deployments:index")
    def deployments(self, req: ApiRequest) -> dict:
        return {"software_deployments": self.software.deployments(authorize(req), req.query.get("server_id"))}

    @route.post(DEPLOYMENTS, policy="software_deployments:create", body=schemas.DEPLOYMENT, authorize_first=True)
    def create_deployment(self, req: ApiRequest) -> dict:
        return {"software_deployment": self.software.create_deployment(authorize(req), req.data)}

    @route.get(DEPLOYMENTS + "/metadata/{server_id}", policy="software_deployments:metadata")
    def metadata(self, req: ApiRequest) -> dict:
        return {"metadata": self.software.metadata(authorize(req), req.path_params["server_id"])}

    @route.get(DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:show")
    def deployment(self, req: ApiRequest) -> dict:
        return {"software_deployment": self.software.deployment(authorize(req), req.path_params["deployment_id"])}

    @route.put(DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:update",
               body=schemas.DEPLOYMENT_UPDATE, authorize_first=True)
    def update_deployment(self, req: ApiRequest) -> dict:
        return {"software_deployment": self.software.update_deployment(
            authorize(req), req.path_params["deployment_id"], req.data)}

    @route.delete(DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:delete", status=204)
    def delete_deployment(self, req: ApiRequest) -> None:
        self.software.delete_deployment(authorize(req), req.path_params["deployment_id"])
