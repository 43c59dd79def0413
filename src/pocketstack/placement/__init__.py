"""Placement: resource providers, their inventories and traits, and the allocations
consumers hold against them (the scheduler's source of truth for free capacity)."""
