"""Instance HA: a host monitor, fence drivers and recovery by evacuation (docs/ha.md)."""
