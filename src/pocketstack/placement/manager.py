"""The in-process face of Placement: what the compute service and scheduler call.

Methods are synchronous (callers run them in worker threads) and each is one short
transaction or one compare-and-swap unit of work; see :mod:`.allocations` for why
concurrent claims can never over-commit a provider.  The HTTP API uses the same parts
(:attr:`catalog`, :attr:`providers`, :attr:`allocations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pocketstack.common.db import Database
from pocketstack.placement.allocations import ANY_GENERATION, Allocations, ConsumerAllocations
from pocketstack.placement.candidates import Candidate, find_candidates
from pocketstack.placement.catalog import Catalog
from pocketstack.placement.errors import CapacityExceeded, UnknownProvider
from pocketstack.placement.providers import Providers

__all__ = ["Candidate", "PlacementManager"]


class PlacementManager:
    def __init__(self, db: Database):
        self.db = db
        self.catalog = Catalog(db)
        self.providers = Providers(db, self.catalog)
        self.allocations = Allocations(db)

    # -- providers -------------------------------------------------------------------
    def ensure_provider(self, uuid: str, name: str, inventories: Mapping[str, Mapping[str, int | float]], *,
                        traits: Iterable[str] = (), parent_uuid: str | None = None) -> None:
        """Create the provider or bring its name, inventories and traits to these
        values (bumping its generation only when something changed)."""
        self.providers.ensure(uuid, name, inventories, traits, parent_uuid)

    def delete_provider(self, uuid: str) -> None:
        """Delete it; 409 Conflict while it has allocations or child providers."""
        self.providers.delete(uuid)

    # -- scheduling ------------------------------------------------------------------
    def get_candidates(self, resources: dict[str, int], *, required_traits: Iterable[str] = (),
                       forbidden_traits: Iterable[str] = (), limit: int | None = None) -> list[Candidate]:
        """The scheduler's candidates (their ``traits`` are not read: the query filters on
        the required and forbidden ones, and a scheduler needs no more of them)."""
        return find_candidates(self.db, resources, required=required_traits, forbidden=forbidden_traits,
                               limit=limit, with_traits=False)

    def claim(self, consumer_uuid: str, project_id: str, user_id: str,
              allocations: dict[str, dict[str, int]], *, new_consumer: bool = False,
              seen: Iterable[Candidate] = ()) -> bool:
        """Replace the consumer's allocations with ``allocations``; False (nothing
        changed) when any of them does not fit or names an unknown provider.

        ``new_consumer`` claims only for a consumer that holds nothing (consumer
        generation null, as Nova's scheduler claims for a new instance): when it already
        holds allocations this raises :class:`ConsumerGenerationConflict` and leaves them
        alone, so of two claims racing for one consumer exactly one wins."""
        generation = None if new_consumer else ANY_GENERATION
        try:
            self.allocations.write([ConsumerAllocations(consumer_uuid, allocations, project_id, user_id,
                                                        generation=generation)],
                                   seen={c.provider_uuid: c for c in seen})
        except (CapacityExceeded, UnknownProvider):
            return False
        return True

    def get_allocations(self, consumer_uuid: str) -> dict[str, dict[str, int]]:
        return self.allocations.for_consumer(consumer_uuid)[0]

    def delete_allocations(self, consumer_uuid: str) -> None:
        """Release everything the consumer holds (a no-op when it holds nothing)."""
        self.allocations.write([ConsumerAllocations(consumer_uuid, {})])

    def move_allocations(self, source_consumer: str, target_consumer: str) -> None:
        """Hand all of ``source_consumer``'s allocations to ``target_consumer`` (which
        loses whatever it held), in one transaction: resize keeps the old flavor's
        resources under the migration record this way."""
        self.allocations.move(source_consumer, target_consumer)

    # -- usage -----------------------------------------------------------------------
    def usages(self, provider_uuid: str) -> dict[str, int]:
        return self.allocations.provider_usages(provider_uuid)

    def project_usages(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        return self.allocations.project_usages(project_id, user_id)

