"""Swift's ring: which devices hold each partition of the object namespace.

``RingBuilder`` is the operator-side tool that assigns ``2**part_power`` partitions
to weighted devices (dispersed across regions, zones, servers and devices, moving as
little data as possible when the cluster changes).  It writes a compact
``*.ring.gz`` file that storage and proxy processes load with :class:`Ring` to map an
account/container/object name to its partition, primary devices and handoffs.
See ``docs/ring.md`` for the model.
"""

from pocketstack.object.ring.builder import RebalanceResult, RingBuilder
from pocketstack.object.ring.devices import Device, parse_add_value, parse_search_value
from pocketstack.object.ring.errors import RingBuilderError, RingError, RingValidationError
from pocketstack.object.ring.ring import Ring, hash_path
from pocketstack.object.ring.ringfile import RingData

__all__ = [
    "Device",
    "RebalanceResult",
    "Ring",
    "RingBuilder",
    "RingBuilderError",
    "RingData",
    "RingError",
    "RingValidationError",
    "hash_path",
    "parse_add_value",
    "parse_search_value",
]
