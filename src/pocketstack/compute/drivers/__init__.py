"""Hypervisor drivers: what a compute host does to actually run guests."""
