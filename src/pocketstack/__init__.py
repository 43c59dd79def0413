"""pocketstack: OpenStack, rebuilt as one clean Python package."""

__version__ = "0.1.0"
