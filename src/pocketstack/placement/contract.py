"""What other services may call of Placement (compute's scheduler and hosts do).

Every method is synchronous -- call it from a worker thread, never on the event loop --
and is one short transaction or compare-and-swap unit of work.  ``Cloud.placement``
hands out the implementation (:class:`~pocketstack.placement.manager.PlacementManager`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from pocketstack.placement.candidates import Candidate
from pocketstack.placement.catalog import STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS

# With the contract: the resource class and trait names every cloud knows (compute's
# 2.86 extra-spec check reads them).
__all__ = ["STANDARD_RESOURCE_CLASSES", "STANDARD_TRAITS", "Candidate", "PlacementContract"]


class PlacementContract(Protocol):
    def ensure_provider(self, uuid: str, name: str, inventories: Mapping[str, Mapping[str, int | float]], *,
                        traits: Iterable[str] = (), parent_uuid: str | None = None) -> None:
        """Create the provider or bring its name, inventories and traits to these values."""

    def delete_provider(self, uuid: str) -> None:
        """Delete it; 409 while it has allocations or children."""

    def get_candidates(self, resources: dict[str, int], *, required_traits: Iterable[str] = (),
                       forbidden_traits: Iterable[str] = (), limit: int | None = None) -> list[Candidate]:
        """Providers that could hold ``resources`` now (their ``traits`` left empty: the
        required and forbidden ones are filtered on, and a scheduler needs no more)."""

    def claim(self, consumer_uuid: str, project_id: str, user_id: str,
              allocations: dict[str, dict[str, int]], *, new_consumer: bool = False,
              seen: Iterable[Candidate] = ()) -> bool:
        """Replace the consumer's allocations; False when they do not fit (nothing changed).
        ``seen``: the candidates the allocations were chosen from, checked against before
        anything is read again (their generations make that safe; a client that cannot
        pass them loses nothing but a few reads)."""

    def get_allocations(self, consumer_uuid: str) -> dict[str, dict[str, int]]:
        """The consumer's allocations by provider."""

    def delete_allocations(self, consumer_uuid: str) -> None:
        """Release everything the consumer holds."""

    def move_allocations(self, source_consumer: str, target_consumer: str) -> None:
        """Hand all of one consumer's allocations to another, in one transaction."""

    def usages(self, provider_uuid: str) -> dict[str, int]:
        """What the provider's consumers use, by resource class."""

    def project_usages(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """What the project's (or user's) consumers use, by resource class."""
