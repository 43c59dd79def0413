"""The Identity API (Keystone v3): one router assembled from the resource families'
handler classes; the entity collections share :class:`~.entities.EntityApi`."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.identity.api import auth, catalog, resources, roles, users
from pocketstack.identity.api.entities import entity_routes
from pocketstack.identity.manager import Identity


def build_router(identity: Identity) -> Router:
    router = Router().include(
        auth.VersionsApi(), auth.TokensApi(identity), auth.AuthScopesApi(identity),
        resources.ProjectTagsApi(identity), users.UserLinksApi(identity), users.GroupMembersApi(identity),
        users.ApplicationCredentialsApi(identity), roles.ImpliedRolesApi(identity),
        roles.RoleAssignmentsApi(identity), catalog.RegionIdApi(identity))
    router.routes.extend(entity_routes(
        resources.domains(identity), resources.projects(identity), users.users(identity), users.groups(identity),
        roles.roles(identity), catalog.regions(identity), catalog.services(identity),
        catalog.endpoints(identity)).routes)
    router.routes.extend(roles.grant_routes(identity.assignment))
    return router
