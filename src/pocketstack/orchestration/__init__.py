"""Orchestration (Heat v1): HOT templates that build whole applications from the cloud's
other services, acting for the user through their public APIs."""
