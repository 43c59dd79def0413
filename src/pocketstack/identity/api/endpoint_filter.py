"""``/v3/OS-EP-FILTER``: endpoint groups, and endpoints or endpoint groups associated
with projects (:mod:`pocketstack.identity.endpoint_filter`).

Which existence checks each route makes, and in which order, is Keystone's
(keystone/api/os_ep_filter.py): listing a group's projects does not check the group,
removing an endpoint from a project checks only the association.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import validate
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.resources import tags_of
from pocketstack.identity.manager import Identity

EP_FILTER = "/v3/OS-EP-FILTER"
GROUPS = EP_FILTER + "/endpoint_groups"
GROUP = GROUPS + "/{endpoint_group_id}"
GROUP_PROJECT = GROUP + "/projects/{project_id}"
PROJECT_ENDPOINTS = EP_FILTER + "/projects/{project_id}/endpoints"
PROJECT_ENDPOINT = PROJECT_ENDPOINTS + "/{endpoint_id}"


class EndpointFilterApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.filter = identity.endpoint_filter

    def _projects(self, req: ApiRequest, path: str, project_ids: list[str]) -> dict:
        projects = [self.identity.resource.get_project(pid, domain=None) for pid in project_ids]
        tags = tags_of(self.identity, project_ids)
        return render.collection(req.service_url, path, "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @staticmethod
    def _endpoints(req: ApiRequest, path: str, endpoints: list[m.Endpoint]) -> dict:
        return render.collection(req.service_url, path, "endpoints",
                                 [render.endpoint(req.service_url, e) for e in endpoints])

    def _group_and_project(self, req: ApiRequest) -> tuple[str, str]:
        """The path's project and endpoint group, each 404 when missing (project first)."""
        group_id, project_id = req.path_params["endpoint_group_id"], req.path_params["project_id"]
        self.identity.resource.get_project(project_id, domain=None)
        self.filter.get_group(group_id)
        return group_id, project_id

    def _endpoint_and_project(self, req: ApiRequest) -> tuple[str, str]:
        endpoint_id, project_id = req.path_params["endpoint_id"], req.path_params["project_id"]
        self.identity.catalog.get_endpoint(endpoint_id)
        self.identity.resource.get_project(project_id, domain=None)
        return endpoint_id, project_id

    # -- endpoint groups -----------------------------------------------------------------
    @route.get(GROUPS, policy="identity:list_endpoint_groups")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        query = validate(dict(req.query), schemas.endpoint_groups_query)
        return render.collection(req.service_url, "OS-EP-FILTER/endpoint_groups", "endpoint_groups",
                                 [render.endpoint_group(req.service_url, g)
                                  for g in self.filter.list_groups(query.get("name"))])

    @route.post(GROUPS, policy="identity:create_endpoint_group", body=schemas.endpoint_group_create, status=201)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        group = self.filter.create_group(req.data["endpoint_group"])
        return {"endpoint_group": render.endpoint_group(req.service_url, group)}

    @route.get(GROUP, policy="identity:get_endpoint_group")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        group = self.filter.get_group(req.path_params["endpoint_group_id"])
        return {"endpoint_group": render.endpoint_group(req.service_url, group)}

    @route.patch(GROUP, policy="identity:update_endpoint_group", body=schemas.endpoint_group_update)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        group = self.filter.update_group(req.path_params["endpoint_group_id"], req.data["endpoint_group"])
        return {"endpoint_group": render.endpoint_group(req.service_url, group)}

    @route.delete(GROUP, policy="identity:delete_endpoint_group")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.delete_group(req.path_params["endpoint_group_id"])

    @route.get(GROUP + "/endpoints", policy="identity:list_endpoints_associated_with_endpoint_group")
    def group_endpoints(self, req: ApiRequest) -> dict:
        req.authorize()
        group_id = req.path_params["endpoint_group_id"]
        return self._endpoints(req, f"OS-EP-FILTER/endpoint_groups/{group_id}/endpoints",
                               self.filter.group_endpoints(group_id))

    @route.get(GROUP + "/projects", policy="identity:list_projects_associated_with_endpoint_group")
    def group_projects(self, req: ApiRequest) -> dict:
        req.authorize()
        group_id = req.path_params["endpoint_group_id"]
        return self._projects(req, f"OS-EP-FILTER/endpoint_groups/{group_id}/projects",
                              self.filter.projects_of_group(group_id))

    @route.get(GROUP_PROJECT, policy="identity:get_endpoint_group_in_project")
    def show_group_project(self, req: ApiRequest) -> dict:
        req.authorize()
        group_id, project_id = self._group_and_project(req)
        self.filter.check_group_in_project(group_id, project_id)
        return {"project_endpoint_group": render.project_endpoint_group(req.service_url, group_id, project_id)}

    @route.put(GROUP_PROJECT, policy="identity:add_endpoint_group_to_project")
    def add_group_project(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.add_group_to_project(*self._group_and_project(req))

    @route.delete(GROUP_PROJECT, policy="identity:remove_endpoint_group_from_project")
    def remove_group_project(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.remove_group_from_project(*self._group_and_project(req))

    @route.get(EP_FILTER + "/projects/{project_id}/endpoint_groups", policy="identity:list_endpoint_groups_for_project")
    def project_groups(self, req: ApiRequest) -> dict:
        req.authorize()
        project_id = req.path_params["project_id"]
        self.identity.resource.get_project(project_id, domain=None)
        return render.collection(req.service_url, f"OS-EP-FILTER/projects/{project_id}/endpoint_groups",
                                 "endpoint_groups", [render.endpoint_group(req.service_url, g)
                                                     for g in self.filter.groups_of_project(project_id)])

    # -- endpoints and projects ----------------------------------------------------------
    @route.get(PROJECT_ENDPOINTS, policy="identity:list_endpoints_for_project")
    def project_endpoints(self, req: ApiRequest) -> dict:
        req.authorize()
        project_id = req.path_params["project_id"]
        self.identity.resource.get_project(project_id, domain=None)
        return self._endpoints(req, f"OS-EP-FILTER/projects/{project_id}/endpoints",
                               self.filter.endpoints_of_project(project_id))

    @route.get(PROJECT_ENDPOINT, policy="identity:check_endpoint_in_project")
    def check_project_endpoint(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.check_endpoint_in_project(*self._endpoint_and_project(req))

    @route.put(PROJECT_ENDPOINT, policy="identity:add_endpoint_to_project")
    def add_project_endpoint(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.add_endpoint_to_project(*self._endpoint_and_project(req))

    @route.delete(PROJECT_ENDPOINT, policy="identity:remove_endpoint_from_project")
    def remove_project_endpoint(self, req: ApiRequest) -> None:
        req.authorize()
        self.filter.remove_endpoint_from_project(req.path_params["endpoint_id"], req.path_params["project_id"])

    @route.get(EP_FILTER + "/endpoints/{endpoint_id}/projects", policy="identity:list_projects_for_endpoint")
    def endpoint_projects(self, req: ApiRequest) -> dict:
        req.authorize()
        endpoint_id = req.path_params["endpoint_id"]
        self.identity.catalog.get_endpoint(endpoint_id)
        return self._projects(req, f"OS-EP-FILTER/endpoints/{endpoint_id}/projects",
                              self.filter.projects_of_endpoint(endpoint_id))
