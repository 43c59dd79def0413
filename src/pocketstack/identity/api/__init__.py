"""The Identity API (Keystone v3): one router assembled from the resource families'
handler classes; the entity collections share :class:`~.entities.EntityApi`."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.identity.api import (
    auth,
    catalog,
    credentials,
    domain_config,
    endpoint_filter,
    endpoint_policy,
    federation,
    k2k,
    limits,
    oauth1,
    policy_store,
    resources,
    roles,
    saml,
    trusts,
    users,
    websso,
)
from pocketstack.identity.api.entities import EntityApi
from pocketstack.identity.manager import Identity


def build_router(identity: Identity) -> Router:
    router = Router().include(
        auth.VersionsApi(), auth.TokensApi(identity), auth.AuthScopesApi(identity),
        resources.ProjectTagsApi(identity), users.UserLinksApi(identity), users.GroupMembersApi(identity),
        users.ApplicationCredentialsApi(identity), users.AccessRulesApi(identity), roles.ImpliedRolesApi(identity),
        roles.RoleAssignmentsApi(identity), catalog.RegionIdApi(identity), trusts.TrustsApi(identity),
        credentials.CredentialsApi(identity), credentials.Ec2CredentialsApi(identity),
        credentials.Ec2TokensApi(identity), domain_config.SecurityComplianceConfigApi(identity),
        domain_config.DomainConfigApi(identity),
        limits.RegisteredLimitsApi(identity), limits.LimitsApi(identity), endpoint_filter.EndpointFilterApi(identity),
        endpoint_policy.EndpointPolicyApi(identity), federation.FederationApi(identity), oauth1.ConsumersApi(identity),
        oauth1.DelegationApi(identity), oauth1.AccessTokensApi(identity), saml.SamlApi(identity),
        k2k.ServiceProvidersApi(identity), k2k.SamlIdpApi(identity))
    for family in (resources.domains(identity), resources.projects(identity), users.users(identity),
                   users.groups(identity), roles.roles(identity), catalog.regions(identity),
                   catalog.services(identity), catalog.endpoints(identity), policy_store.policies(identity)):
        router.include(EntityApi(family), prefix=f"/v3/{family.plural}")
    for api, prefix in roles.grants(identity.assignment):
        router.include(api, prefix=prefix)
    identity.websso_flow.front_ends.append(saml.SamlWebSso(identity))
    router.include(websso.WebSsoApi(identity))
    return router
