"""The orchestration engine's named step failures: Heat's exception name as the kind, the
status a name-or-id lookup reads, and the message built from the fields."""

from __future__ import annotations

import pytest

from pocketstack.orchestration.resources.base import (
    EntityNotFound,
    PhysicalResourceNameAmbiguity,
    PhysicalResourceNotFound,
    ResourceFailure,
)


def test_named_failures_carry_heats_kind_status_and_words():
    missing = EntityNotFound(entity="Volume", name="v1")
    assert (missing.kind, missing.status, missing.message) == ("EntityNotFound", 404,
                                                               "The Volume (v1) could not be found.")
    assert missing.fields == {"entity": "Volume", "name": "v1"} and isinstance(missing, ResourceFailure)
    gone = PhysicalResourceNotFound(entity="server", name="s1")
    assert (gone.kind, gone.status, str(gone)) == ("NotFound", 404, "The server (s1) could not be found.")
    twice = PhysicalResourceNameAmbiguity(entity="Network", name="net")
    assert (twice.kind, twice.status, twice.message) == (
        "PhysicalResourceNameAmbiguity", 409,
        "Multiple Network matches found for name 'net', use an ID to be more specific.")


def test_a_plain_failure_keeps_the_words_it_is_given():
    failure = ResourceFailure("Went to status error due to \"Unknown\"", "ResourceInError")
    assert (failure.kind, failure.status, failure.message) == ("ResourceInError", None,
                                                               "Went to status error due to \"Unknown\"")
    assert ResourceFailure("boom").kind == "ResourceFailure"
    with pytest.raises(TypeError):
        ResourceFailure()
