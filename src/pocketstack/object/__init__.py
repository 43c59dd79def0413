"""Object storage (Swift): the ring that places data, and the services built on it."""
