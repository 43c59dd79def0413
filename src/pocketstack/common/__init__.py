"""Shared machinery used by every service (what Oslo is to OpenStack)."""
