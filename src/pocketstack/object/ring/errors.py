"""Exceptions raised by the ring builder and the ring reader."""


class RingError(Exception):
    """Base class for every ring problem."""


class RingBuilderError(RingError, ValueError):
    """An operator request the builder cannot honour (bad device, bad parameter)."""


class RingValidationError(RingError):
    """The ring (or the cluster it describes) breaks an invariant."""
