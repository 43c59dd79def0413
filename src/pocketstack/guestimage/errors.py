"""The one error type an image build raises for a reason the user can fix."""

from __future__ import annotations


class BuildError(RuntimeError):
    """A tool or package the build needs is missing or failed; the message says which."""
