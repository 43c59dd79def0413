"""The Placement API without a cloud: its query parsing, the body schemas its routes
declare per microversion, its handlers on a real SQLite database, and the named errors
its claims raise, with Placement's wording."""

from __future__ import annotations

import json
import uuid

import pytest
from starlette.requests import Request

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import Base
from pocketstack.common.db.engine import Database
from pocketstack.common.errors import ApiError
from pocketstack.common.policy import Enforcer
from pocketstack.common.validation import validate
from pocketstack.placement import errors
from pocketstack.placement.allocations import ConsumerAllocations
from pocketstack.placement.api.allocations import UsagesApi
from pocketstack.placement.api.classes import ResourceClassesApi, TraitsApi, parse_name_filter
from pocketstack.placement.api.providers import ProvidersApi
from pocketstack.placement.manager import PlacementManager
from pocketstack.placement.policies import RULES


def refused(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    return raised.value


# -- parsing -------------------------------------------------------------------------------
def test_name_filter():
    names = ["CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX"]
    assert parse_name_filter(names, "startswith:CUSTOM_") == ["CUSTOM_A", "CUSTOM_B"]
    assert parse_name_filter(names, "in:CUSTOM_B,HW_CPU_X86_AVX,NOPE") == ["CUSTOM_B", "HW_CPU_X86_AVX"]
    error = refused(parse_name_filter, names, "CUSTOM_A")
    assert isinstance(error, errors.BadNameFilter) and error.status == 400
    assert error.message == ('Badly formatted name parameter. Expected name query string parameter in form: '
                             '?name=[in|startswith]:[name1,name2|prefix]. Got: "CUSTOM_A"')


@pytest.mark.parametrize("handler,method", [("create", "POST"), ("update", "PUT")])
def test_a_parent_is_part_of_the_provider_body_from_1_14(manager, handler, method):
    """Declared on the route (no check in the handler): before 1.14 the parent is an
    unknown property, as in Placement's own schemas."""
    routes = Router().include(ProvidersApi(manager)).routes
    spec = next(r for r in routes if r.handler.__name__ == handler and r.method == method)
    body = {"name": "rp", "parent_provider_uuid": str(uuid.uuid4())}
    validate(body, spec.schema_for(Version(1, 14)))
    validate({"name": "rp"}, spec.schema_for(Version(1, 13)))
    error = refused(validate, body, spec.schema_for(Version(1, 13)))
    assert error.status == 400 and "parent_provider_uuid" in error.message


# -- handlers on a real database ---------------------------------------------------------------
@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('placement')}/placement.db")
    Base.metadata.create_all(database.engine, tables=[t for name, t in Base.metadata.tables.items()
                                                      if name.startswith("placement_")])
    yield PlacementManager(database)
    database.dispose()


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


ADMIN = RequestContext(user_id="u1", user_name="admin", project_id="p1", project_name="admin", roles=["admin"])


def serve(enforcer: Enforcer, handler, version: str, method: str = "GET", query: bytes = b"", body=None,
          **path_params: str):
    """Call a handler as the wrapper does: with its declaration and a negotiated version."""
    scope = {"type": "http", "method": method, "path": "/", "query_string": query, "path_params": path_params,
             "headers": []}
    req = ApiRequest(Request(scope), ADMIN, enforcer, body=json.dumps(body).encode() if body is not None else b"",
                     attributes={"service_url": "http://cloud/placement", "version": Version.parse(version)},
                     data=body)
    req.route = next(r for r in Router().include(handler.__self__).routes if r.handler == handler)
    return handler(req)


def test_traits_associated_filter_takes_only_true_or_false(manager, enforcer):
    traits = TraitsApi(manager.catalog)
    manager.catalog.create_trait("CUSTOM_UNUSED")
    assert "CUSTOM_UNUSED" in serve(enforcer, traits.index, "1.6", query=b"associated=false")["traits"]
    assert serve(enforcer, traits.index, "1.6", query=b"associated=true")["traits"] == []
    error = refused(serve, enforcer, traits.index, "1.6", query=b"associated=maybe")
    assert isinstance(error, errors.NotABoolean)
    assert error.message == "The query parameter associated only accepts 'true' or 'false'"


def test_resource_class_put_creates_from_1_7_and_refuses_a_rename_before(manager, enforcer):
    classes = ResourceClassesApi(manager.catalog)
    assert serve(enforcer, classes.put, "1.7", "PUT", name="CUSTOM_GPU").status_code == 201
    assert serve(enforcer, classes.put, "1.7", "PUT", name="CUSTOM_GPU").status_code == 204
    error = refused(serve, enforcer, classes.rename, "1.6", "PUT", name="CUSTOM_OTHER")
    assert isinstance(error, errors.RenameNotSupported) and error.status == 400
    assert not manager.catalog.resource_class_exists("CUSTOM_OTHER")
    # One declaration per microversion range: the wrapper picks the one serving the request.
    by_name = {r.handler.__name__: r for r in Router().include(classes).routes if r.method == "PUT"}
    assert [by_name["rename"].serves(Version.parse(v)) for v in ("1.2", "1.6", "1.7")] == [True, True, False]
    assert [by_name["put"].serves(Version.parse(v)) for v in ("1.6", "1.7", "1.39")] == [False, True, True]


def test_usages_of_a_project_need_its_id(manager, enforcer):
    usages = UsagesApi(manager)
    error = refused(serve, enforcer, usages.of_project, "1.9")
    assert isinstance(error, errors.MissingQueryParameter)
    assert error.message == "Invalid query string parameters: 'project_id' is a required property"
    assert serve(enforcer, usages.of_project, "1.9", query=b"project_id=nobody") == {"usages": {}}


# -- the claims' named errors ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def provider(manager):
    rp = str(uuid.uuid4())
    manager.ensure_provider(rp, "host-" + rp[:8], {"VCPU": {"total": 4, "max_unit": 2}})
    return rp


def claim(manager, provider: str, amount: int, consumer: str | None = None, generation: object = None,
          resource_class: str = "VCPU") -> str:
    consumer = consumer or str(uuid.uuid4())
    manager.allocations.write([ConsumerAllocations(consumer, {provider: {resource_class: amount}}, "p1", "u1",
                                                   generation)])
    return consumer


def test_claims_refused_by_name(manager, provider):
    missing = str(uuid.uuid4())
    error = refused(claim, manager, missing, 1)
    assert isinstance(error, errors.UnknownProvider) and error.fields == {"uuid": missing}
    assert error.message == f"Allocation for resource provider '{missing}' that does not exist."

    error = refused(claim, manager, provider, 1, resource_class="MEMORY_MB")
    assert isinstance(error, errors.NoInventoryForClass) and error.status == 409
    assert error.message == (f"Unable to allocate inventory: Inventory for 'MEMORY_MB' on resource provider "
                             f"'{provider}' invalid.")

    error = refused(claim, manager, provider, 3)  # above max_unit
    assert isinstance(error, errors.AmountRefused) and error.fields["resource_class"] == "VCPU"
    assert error.message.startswith(f"Unable to allocate inventory: Unable to create allocation for 'VCPU' on "
                                    f"resource provider '{provider}': ")

    claim(manager, provider, 2)
    claim(manager, provider, 2)
    error = refused(claim, manager, provider, 1)
    assert isinstance(error, errors.CapacityWouldBeExceeded) and isinstance(error, errors.CapacityExceeded)
    assert error.message.endswith("The requested amount would exceed the capacity.")


def test_consumer_generation_conflicts_in_placements_words(manager):
    rp = str(uuid.uuid4())
    manager.ensure_provider(rp, "gen-" + rp[:8], {"VCPU": {"total": 8}})
    new = str(uuid.uuid4())
    error = refused(claim, manager, rp, 1, consumer=new, generation=3)
    assert isinstance(error, errors.ConsumerGenerationConflict) and error.status == 409
    assert error.message == "consumer generation conflict - expected null but got 3"
    assert error.error_type == "placement.concurrent_update"
    claim(manager, rp, 1, consumer=new, generation=None)
    error = refused(claim, manager, rp, 2, consumer=new, generation=5)
    assert error.message == "consumer generation conflict - expected 5 but got 0"
