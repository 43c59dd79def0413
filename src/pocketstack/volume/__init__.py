"""Block Storage (Cinder v3): volumes, snapshots and their state machine on a file backend."""
