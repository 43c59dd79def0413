"""Imports every service's tables so that migrations and ``create_all`` see them all."""

from pocketstack.identity import models as identity_models  # noqa: F401
