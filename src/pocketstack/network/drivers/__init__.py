"""Datapath drivers: where network changes meet a real (or recorded) data plane."""
