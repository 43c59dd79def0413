"""The metadata definitions catalog (Glance's metadefs) without a cloud: body checking,
the namespace and resource type handlers, and the three definition families (objects,
properties, tags) on a real SQLite database, with Glance's default rules enforced."""

from __future__ import annotations

import json

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import Base
from pocketstack.common.policy import Enforcer
from pocketstack.image import errors
from pocketstack.image.api import metadef_definitions, metadef_namespaces, schemas
from pocketstack.image.api.metadef_common import checked_body
from pocketstack.image.api.metadef_definitions import ObjectsApi, PropertiesApi, TagsApi
from pocketstack.image.api.metadef_namespaces import NamespacesApi, ResourceTypesApi
from pocketstack.image.manager import ImageManager
from pocketstack.image.policies import RULES
from pocketstack.image.stores.file import FileStore

SERVICE_URL = "http://cloud.test/image"
ADMIN = RequestContext(user_id="admin", project_id="admin-project", roles=["admin", "member", "reader"])
READER = RequestContext(user_id="u1", project_id="p1", roles=["reader", "member"])
OTHER = RequestContext(user_id="u2", project_id="p2", roles=["reader", "member"])


@pytest.fixture
def manager(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'image.db'}")
    Base.metadata.create_all(db.engine, tables=[t for t in Base.metadata.sorted_tables
                                                if t.name.startswith("image_")])
    manager = ImageManager(db, FileStore(tmp_path / "images"), FileStore(tmp_path / "image-staging"))
    yield manager
    manager.tasks.stop()
    db.engine.dispose()


@pytest.fixture
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def request(enforcer: Enforcer, method: str, context: RequestContext, body=None, headers=None, query: str = "",
            **path_params: str) -> ApiRequest:
    raw = b"" if body is None else json.dumps(body).encode()
    scope = {"type": "http", "method": method, "path": "/", "query_string": query.encode(),
             "path_params": path_params,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    return ApiRequest(Request(scope), context, enforcer, body=raw, attributes={"service_url": SERVICE_URL})


# -- parsing --------------------------------------------------------------------------------
def test_checked_body_refuses_in_glance_order():
    assert checked_body({"namespace": "OS::Test"}, schemas.NAMESPACE) == {"namespace": "OS::Test"}
    with pytest.raises(errors.BodyNotObject) as raised:
        checked_body([], schemas.NAMESPACE)
    assert raised.value.message == "Body expected in request: a JSON object."
    # Read-only attributes are a 403 before the schema's 400.
    with pytest.raises(errors.ReadOnlyAttribute) as raised:
        checked_body({"namespace": 5, "created_at": "x"}, schemas.NAMESPACE)
    assert (raised.value.status, raised.value.message) == (403, "Attribute 'created_at' is read-only.")
    with pytest.raises(errors.BadRequest):
        checked_body({"namespace": 5}, schemas.NAMESPACE)
    with pytest.raises(errors.BadRequest):  # a name on each object the namespace is created with
        checked_body({"namespace": "n", "objects": [{"description": "x"}]}, schemas.NAMESPACE)
    with pytest.raises(errors.NulInText):
        checked_body({"namespace": "a\x00b"}, schemas.NAMESPACE)


def test_namespace_filters_and_targets():
    assert metadef_namespaces.namespace_filters(QueryParams("visibility=public&resource_types=A, B,,")) == (
        "public", ["A", "B"])
    assert metadef_namespaces.namespace_filters(QueryParams("")) == (None, [])
    with pytest.raises(errors.InvalidFilterValue) as raised:
        metadef_namespaces.namespace_filters(QueryParams("visibility=shared"))
    assert raised.value.message == "Invalid visibility value: shared"
    assert metadef_namespaces.create_target({}, "p1") == {"project_id": "p1", "owner": "p1",
                                                          "visibility": "private"}


def test_definition_bodies_and_tag_names():
    assert metadef_definitions.split_definition("object", {"name": "o", "description": "d"}) == (
        "o", {"description": "d"})
    assert metadef_definitions.split_definition("tag", {"name": "t", "extra": 1}) == ("t", {})
    assert metadef_definitions.tag_name("x" * 255) == "x" * 255
    with pytest.raises(errors.TagNameTooLong) as raised:
        metadef_definitions.tag_name("x" * 256)
    assert raised.value.message == "Tag names are at most 255 characters long."


# -- namespaces and resource types ----------------------------------------------------------
def test_namespace_lifecycle_and_rules(manager, enforcer):
    api = NamespacesApi(manager)
    with pytest.raises(errors.Forbidden):  # metadef_admin writes
        api.create(request(enforcer, "POST", READER, {"namespace": "OS::Nope"}))
    created = api.create(request(enforcer, "POST", ADMIN, {"namespace": "OS::Test", "visibility": "public",
                                                           "display_name": "Test"}))
    assert created.status_code == 201
    assert created.headers["location"] == f"{SERVICE_URL}/v2/metadefs/namespaces/OS::Test"
    body = json.loads(created.body)
    assert (body["owner"], body["self"], body["schema"]) == (
        "admin-project", "/v2/metadefs/namespaces/OS::Test", "/v2/schemas/metadefs/namespace")
    with pytest.raises(errors.DuplicateNamespace) as raised:
        api.create(request(enforcer, "POST", ADMIN, {"namespace": "OS::Test"}))
    assert raised.value.message == "A metadata definition namespace with name=OS::Test already exists."
    # Anyone with a role reads a public namespace; a private one is not found for others.
    assert api.show(request(enforcer, "GET", OTHER, namespace="OS::Test"))["display_name"] == "Test"
    api.create(request(enforcer, "POST", ADMIN, {"namespace": "OS::Private"}))
    with pytest.raises(errors.NamespaceNotFound) as raised:
        api.show(request(enforcer, "GET", OTHER, namespace="OS::Private"))
    assert raised.value.message == "Metadata definition namespace=OS::Private was not found."
    listed = api.index(request(enforcer, "GET", OTHER, query="limit=5"))
    assert [n["namespace"] for n in listed["namespaces"]] == ["OS::Test"]
    assert listed["first"] == "/v2/metadefs/namespaces?limit=5" and "next" not in listed

    updated = api.update(request(enforcer, "PUT", ADMIN, {"namespace": "OS::Test", "protected": True},
                                 namespace="OS::Test"))
    assert updated["protected"] is True
    with pytest.raises(errors.NamespaceProtected) as raised:
        api.delete(request(enforcer, "DELETE", ADMIN, namespace="OS::Test"))
    assert raised.value.message == "Metadata definition namespace OS::Test is protected and cannot be deleted."
    api.delete(request(enforcer, "DELETE", ADMIN, namespace="OS::Private"))
    with pytest.raises(errors.NamespaceNotFound):
        api.show(request(enforcer, "GET", ADMIN, namespace="OS::Private"))


def test_resource_type_associations(manager, enforcer):
    NamespacesApi(manager).create(request(enforcer, "POST", ADMIN, {"namespace": "OS::Compute"}))
    api = ResourceTypesApi(manager)
    associated = api.associate(request(enforcer, "POST", ADMIN, {"name": "OS::Nova::Flavor", "prefix": "hw:"},
                                       namespace="OS::Compute"))
    assert associated.status_code == 201 and json.loads(associated.body)["prefix"] == "hw:"
    with pytest.raises(errors.DuplicateAssociation) as raised:
        api.associate(request(enforcer, "POST", ADMIN, {"name": "OS::Nova::Flavor"}, namespace="OS::Compute"))
    assert raised.value.message == ("The metadata definition resource-type association of "
                                    "resource-type=OS::Nova::Flavor to namespace=OS::Compute, already exists.")
    assert [t["name"] for t in api.index(request(enforcer, "GET", READER))["resource_types"]] == ["OS::Nova::Flavor"]
    listed = api.associations(request(enforcer, "GET", ADMIN, namespace="OS::Compute"))
    assert [a["name"] for a in listed["resource_type_associations"]] == ["OS::Nova::Flavor"]
    api.dissociate(request(enforcer, "DELETE", ADMIN, namespace="OS::Compute", resource_type="OS::Nova::Flavor"))
    with pytest.raises(errors.AssociationNotFound):
        api.dissociate(request(enforcer, "DELETE", ADMIN, namespace="OS::Compute",
                               resource_type="OS::Nova::Flavor"))


# -- definitions ----------------------------------------------------------------------------
@pytest.fixture
def namespace(manager, enforcer):
    NamespacesApi(manager).create(request(enforcer, "POST", ADMIN, {"namespace": "OS::Defs",
                                                                    "visibility": "public"}))
    return "OS::Defs"


def test_objects(manager, enforcer, namespace):
    api = ObjectsApi(manager)
    body = {"name": "CPU", "description": "d", "required": ["cores"],
            "properties": {"cores": {"title": "Cores", "type": "integer"}}}
    created = api.create(request(enforcer, "POST", ADMIN, body, namespace=namespace))
    assert created.status_code == 201
    obj = json.loads(created.body)
    assert obj["self"] == f"/v2/metadefs/namespaces/{namespace}/objects/CPU"
    assert obj["properties"] == body["properties"] and obj["required"] == ["cores"]
    with pytest.raises(errors.DuplicateDefinition) as raised:
        api.create(request(enforcer, "POST", ADMIN, body, namespace=namespace))
    assert raised.value.message == ("A metadata definition object with name=CPU already exists in "
                                    f"namespace={namespace}.")
    with pytest.raises(errors.Forbidden):
        api.create(request(enforcer, "POST", READER, dict(body, name="X"), namespace=namespace))
    listed = api.index(request(enforcer, "GET", READER, namespace=namespace))
    assert [o["name"] for o in listed["objects"]] == ["CPU"]
    assert listed["schema"] == "/v2/schemas/metadefs/objects"
    renamed = api.update(request(enforcer, "PUT", ADMIN, {"name": "Processor"}, namespace=namespace, name="CPU"))
    assert renamed["name"] == "Processor"
    with pytest.raises(errors.DefinitionNotFound) as raised:
        api.show(request(enforcer, "GET", READER, namespace=namespace, name="CPU"))
    assert raised.value.message == ("The metadata definition object with name=CPU was not found in "
                                    f"namespace={namespace}.")
    api.delete(request(enforcer, "DELETE", ADMIN, namespace=namespace, name="Processor"))
    assert api.index(request(enforcer, "GET", READER, namespace=namespace))["objects"] == []


def test_properties_come_as_one_mapping(manager, enforcer, namespace):
    api = PropertiesApi(manager)
    api.create(request(enforcer, "POST", ADMIN, {"name": "hw_rng", "title": "RNG", "type": "boolean"},
                       namespace=namespace))
    with pytest.raises(errors.BadRequest):  # a property needs a title and a type
        api.create(request(enforcer, "POST", ADMIN, {"name": "p"}, namespace=namespace))
    assert api.index(request(enforcer, "GET", READER, namespace=namespace)) == {
        "properties": {"hw_rng": {"title": "RNG", "type": "boolean"}}}
    assert api.show(request(enforcer, "GET", READER, namespace=namespace, name="hw_rng"))["title"] == "RNG"
    api.delete_all(request(enforcer, "DELETE", ADMIN, namespace=namespace))
    assert api.index(request(enforcer, "GET", READER, namespace=namespace)) == {"properties": {}}


def test_tags_replace_append_and_refusals(manager, enforcer, namespace):
    api = TagsApi(manager)
    single = api.create(request(enforcer, "POST", ADMIN, namespace=namespace, name="one"))
    assert single.status_code == 201 and json.loads(single.body)["name"] == "one"
    replaced = api.create_many(request(enforcer, "POST", ADMIN, {"tags": [{"name": "a"}, {"name": "b"}]},
                                       namespace=namespace))
    assert json.loads(replaced.body) == {"tags": [{"name": "a"}, {"name": "b"}]}
    api.create_many(request(enforcer, "POST", ADMIN, {"tags": [{"name": "c"}]},
                            headers={"X-Openstack-Append": "true"}, namespace=namespace))
    listed = api.index(request(enforcer, "GET", READER, namespace=namespace, query="sort_key=name&sort_dir=asc"))
    assert [t["name"] for t in listed["tags"]] == ["a", "b", "c"]
    with pytest.raises(errors.DuplicateTagsInRequest):
        api.create_many(request(enforcer, "POST", ADMIN, {"tags": [{"name": "d"}, {"name": "d"}]},
                                namespace=namespace))
    with pytest.raises(errors.BadRequest):
        api.create_many(request(enforcer, "POST", ADMIN, {"tags": [{"name": "e"}]},
                                headers={"X-Openstack-Append": "perhaps"}, namespace=namespace))
    assert api.update(request(enforcer, "PUT", ADMIN, {"name": "z"}, namespace=namespace, name="a"))["name"] == "z"
    api.delete(request(enforcer, "DELETE", ADMIN, namespace=namespace, name="z"))
    api.delete_all(request(enforcer, "DELETE", ADMIN, namespace=namespace))
    assert api.index(request(enforcer, "GET", READER, namespace=namespace))["tags"] == []


def test_protected_namespace_keeps_its_definitions(manager, enforcer, namespace):
    ObjectsApi(manager).create(request(enforcer, "POST", ADMIN, {"name": "o"}, namespace=namespace))
    NamespacesApi(manager).update(request(enforcer, "PUT", ADMIN, {"namespace": namespace, "protected": True},
                                          namespace=namespace))
    with pytest.raises(errors.NamespaceDefinitionsProtected) as raised:
        ObjectsApi(manager).delete_all(request(enforcer, "DELETE", ADMIN, namespace=namespace))
    assert raised.value.message == (f"Metadata definition namespace {namespace} is protected: its definitions "
                                    "cannot be deleted all at once.")
