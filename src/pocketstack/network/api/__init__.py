"""The Networking API (Neutron v2.0): one router assembled from the resource families."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.errors import neutron_format
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import ApiError
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api.address_groups import AddressGroupAddressesApi
from pocketstack.network.api.agent_scheduler import AgentSchedulerApi
from pocketstack.network.api.agents import AgentsApi
from pocketstack.network.api.discovery import DiscoveryApi
from pocketstack.network.api.fixed_lists import FixedListsApi
from pocketstack.network.api.flavors import FlavorServiceProfilesApi
from pocketstack.network.api.ip_availability import IpAvailabilityApi
from pocketstack.network.api.qos import QosRuleAliasApi, QosRulesApi, QosRuleTypesApi
from pocketstack.network.api.resources import (
    RESOURCES,
    TAG_PATHS,
    UNTAGGED,
    ResourceApi,
    ResourceTagsApi,
    UntaggableApi,
)
from pocketstack.network.api.subresources import (
    AutoAllocatedTopologyApi,
    QuotasApi,
    RouterInterfacesApi,
    SecurityGroupRulesApi,
)
from pocketstack.network.api.trunks import TrunkSubportsApi
from pocketstack.network.errors import neutron_type
from pocketstack.network.manager import NetworkManager
from pocketstack.network.qos import RULE_TYPES


def build_router(manager: NetworkManager, agents: AgentDirectory) -> Router:
    router = Router().include(
        DiscoveryApi(), AgentsApi(agents), AgentSchedulerApi(manager, agents), SecurityGroupRulesApi(manager),
        RouterInterfacesApi(manager), QuotasApi(manager), AutoAllocatedTopologyApi(manager), UntaggableApi(),
        FixedListsApi(), IpAvailabilityApi(manager), TrunkSubportsApi(manager), QosRuleTypesApi(),
        AddressGroupAddressesApi(manager), FlavorServiceProfilesApi(manager))
    for collection in RESOURCES:
        router.include(ResourceApi(manager, collection), prefix=f"/v2.0/{collection}")
        if collection not in UNTAGGED:
            router.include(ResourceTagsApi(manager, collection), prefix=f"/v2.0/{collection}")
    for path, collection in TAG_PATHS.items():
        router.include(ResourceTagsApi(manager, collection), prefix=f"/v2.0/{path}")
    for rule_type in RULE_TYPES:
        router.include(QosRulesApi(manager, rule_type), prefix=f"/v2.0/qos/policies/{{policy_id}}/{rule_type}_rules")
        router.include(QosRuleAliasApi(manager, rule_type))
    return router


def network_format(error: ApiError) -> Response:
    """Neutron's error body: ``{"NeutronError": {"type", "message", "detail"}}``."""
    return neutron_format(neutron_type(error))
