"""Compute's view of Placement: the few calls the scheduler and the hosts make.

Compute never reads Placement's tables; it calls the placement service's contract in
process (``cloud.placement``) (a REST client can implement the same methods when the services run apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.compute import errors

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud
    from pocketstack.placement.contract import Candidate, PlacementContract


def flavor_resources(flavor: dict) -> dict[str, int]:
    """The resources one instance of ``flavor`` consumes."""
    resources = {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"],
                 "DISK_GB": flavor["disk"] + flavor.get("ephemeral", 0) + (flavor.get("swap", 0) + 1023) // 1024}
    return {rc: amount for rc, amount in resources.items() if amount > 0}


class Placement:
    def __init__(self, cloud: "Cloud"):
        self._cloud = cloud

    @property
    def manager(self) -> PlacementContract:
        manager = self._cloud.placement
        if manager is None:
            raise errors.PlacementUnavailable()
        return manager

    def ensure_provider(self, uuid: str, name: str, inventories: dict[str, dict], traits=()) -> None:
        self.manager.ensure_provider(uuid, name, inventories, traits=traits)

    def candidates(self, resources: dict[str, int], required_traits=(), forbidden_traits=()) -> list:
        return self.manager.get_candidates(resources, required_traits=required_traits,
                                           forbidden_traits=forbidden_traits)

    def claim(self, consumer: str, project_id: str, user_id: str, provider: str, resources: dict[str, int],
              seen: Candidate | None = None) -> bool:
        """Claim for a consumer holding nothing; a 409 Conflict when it already holds a claim.
        ``seen``: the provider as the candidates showed it (spares the claim re-reading it)."""
        return self.manager.claim(consumer, project_id, user_id, {provider: resources}, new_consumer=True,
                                  seen=[seen] if seen is not None else [])

    def allocations(self, consumer: str) -> dict:
        return self.manager.get_allocations(consumer)

    def release(self, consumer: str) -> None:
        self.manager.delete_allocations(consumer)

    def move(self, source: str, target: str) -> None:
        self.manager.move_allocations(source, target)

    def usages(self, provider: str) -> dict[str, int]:
        return self.manager.usages(provider)
