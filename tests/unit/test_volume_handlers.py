"""The Block Storage API without a cloud: the request parsing its handlers use, and the
handlers themselves on a real SQLite database (types, QoS, quotas, the shared metadata
routes), with the policy rules they enforce and Cinder's wording of every refusal."""

from __future__ import annotations

import inspect
import typing
import uuid

import pytest
from starlette.requests import Request

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import Base
from pocketstack.common.db.engine import Database
from pocketstack.common.errors import ApiError, Forbidden
from pocketstack.common.policy import Enforcer
from pocketstack.volume import contract, errors
from pocketstack.volume import models as m
from pocketstack.volume.api import actions, attachments, qos, quotas, schemas, services, snapshots, types, volumes
from pocketstack.volume.api.common import to_bool
from pocketstack.volume.api.metadata import MetadataApi, item
from pocketstack.volume.api.pools import HOST, capabilities_view
from pocketstack.volume.api.validation import validate
from pocketstack.volume.attachments import Attachments
from pocketstack.volume.backends import Backends
from pocketstack.volume.drivers.base import Capabilities
from pocketstack.volume.policies import RULES
from pocketstack.volume.qos import Qos
from pocketstack.volume.quotas import MAX_INT, Quotas
from pocketstack.volume.snapshots import Snapshots
from pocketstack.volume.types import Types
from pocketstack.volume.volumes import Volumes


def refused(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    return raised.value


# -- request parsing ------------------------------------------------------------------------------
def test_create_spec_takes_v1_names_and_aliases():
    spec = volumes.create_spec({"size": "3", "display_name": "old", "display_description": "d", "image_id": "img",
                                "multiattach": "yes"})
    assert spec == {"size": 3, "name": "old", "description": "d", "imageRef": "img", "multiattach": True}
    # The v2 name wins over the v1 one; a null size stays for the volumes to refuse.
    assert volumes.create_spec({"name": "new", "display_name": "old", "size": None})["name"] == "new"


def test_list_filters_read_booleans_and_metadata_literals():
    query = {"name": "a", "status": "available", "bootable": "t", "metadata": "{'k': 'v'}", "ignored": "x"}
    assert volumes.list_filters(query) == {"name": "a", "status": "available", "bootable": True,
                                           "metadata": {"k": "v"}}
    assert volumes.list_filters({"metadata": '{"k": 1}'})["metadata"] == {"k": 1}
    for bad in ("[1, 2]", "not a literal"):
        error = refused(volumes.list_filters, {"metadata": bad})
        assert (error.status, error.message) == (
            400, "Invalid input received: metadata filter must be a JSON object.")
    assert refused(volumes.list_filters, {"multiattach": "maybe"}).message == (
        "Invalid input received: multiattach must be a boolean, got 'maybe'.")


def test_to_bool_takes_cinders_words():
    assert [to_bool(v, "x") for v in (True, "On", "y", "0", "off", " F ")] == [True, True, True, False, False, False]


@pytest.mark.parametrize("payload,message", [
    ({}, "Malformed request body: exactly one action is expected."),
    ({"os-extend": {"new_size": 2}, "os-reserve": {}}, "Malformed request body: exactly one action is expected."),
    ([], "Malformed request body: exactly one action is expected."),
    ({"os-fly": {}}, "There is no such action: os-fly"),
    ({"os-extend": {}}, "Invalid input for field/attribute os-extend. Value: {}. 'new_size' is a required property"),
    ({"os-extend": {"new_size": 0}},
     "Invalid input for field/attribute new_size. Value: 0. 0 is less than the minimum of 1"),
    ({"os-reset_status": {"status": "nonsense"}},
     "Volume status: nonsense is invalid, valid statuses are: " + str(schemas.VOLUME_STATUSES) + "."),
])
def test_volume_action_refusals(payload, message):
    error = refused(actions.parse_action, payload, schemas.VOLUME_ACTIONS)
    assert (error.status, error.message) == (400, message)


def test_volume_action_parsed():
    assert actions.parse_action({"os-extend": {"new_size": "5"}}, schemas.VOLUME_ACTIONS) == (
        "os-extend", {"new_size": "5"})
    assert actions.parse_action({"os-detach": None}, schemas.VOLUME_ACTIONS) == ("os-detach", None)


def test_snapshot_and_attachment_actions():
    assert snapshots.parse_snapshot_action({"os-force_delete": {}}) == ("os-force_delete", {})
    for payload, name in (({"os-extend": {}}, "os-extend"), ("x", ""), ({"os-force_delete": {}, "a": 1},
                                                                       "os-force_delete")):
        assert refused(snapshots.parse_snapshot_action, payload).message == f"There is no such action: {name}"
    assert refused(snapshots.parse_snapshot_action, {"os-reset_status": {"status": "gone"}}).message.startswith(
        "Snapshot status: gone is invalid")
    attachments.check_complete({"os-complete": None})
    assert refused(attachments.check_complete, {"os-other": {}}).message == "There is no such action: os-other"


def test_item_bodies_must_name_the_urls_key():
    assert item("k", {"k": "v"}) == {"k": "v"}
    assert refused(item, "k", {"other": "v"}).message == "Request body and URI mismatch"
    assert types.extra_spec_item("k", {"k": 1}) == {"k": 1}
    assert refused(types.extra_spec_item, "k", {"k": 1, "j": 2}).message == "Request body and URI mismatch"


def test_type_parameters():
    admin, member = caller("admin"), caller("member")
    assert types.is_public_filter(None, admin) is True
    assert types.is_public_filter("none", admin) is None
    assert types.is_public_filter("false", admin) is False
    assert types.is_public_filter("false", member) is True  # only the admin's counts
    assert refused(types.is_public_filter, "perhaps", admin).message == "Invalid is_public filter [perhaps]"
    assert types.update_values({"name": "n", "is_public": "false"}) == {"name": "n", "is_public": False}
    assert refused(types.update_values, {}).message == (
        "Specify volume type name, description, is_public or a combination thereof.")
    assert qos.type_id({"vol_type_id": "t"}) == "t"
    assert refused(qos.type_id, {}).message == "Required parameter vol_type_id is missing."


def test_quota_checks_in_cinders_order():
    known = {"volumes", "gigabytes", "per_volume_gigabytes"}
    assert quotas.checked_limits({"volumes": "5", "id": "x"}, known, {}) == {"volumes": 5}
    assert refused(quotas.checked_limits, {"volumes": "many"}, known, {}).message == "volumes must be an integer"
    assert refused(quotas.checked_limits, {"volumes": MAX_INT + 1}, known, {}).message == (
        f"volumes must be <= {MAX_INT}")
    assert refused(quotas.checked_limits, {"bogus": 1}, known, {}).message == (
        "Invalid input received: Bad key(s) in quota set: bogus")
    assert refused(quotas.checked_limits, {"volumes": 1}, known, {"volumes": 3}).message == (
        "Quota volumes limit must be equal or greater than existing resources. Current usage is 3 and the "
        "requested limit is 1.")
    # A cap on one volume's size is not compared with the usage.
    assert quotas.checked_limits({"per_volume_gigabytes": 1}, known, {"per_volume_gigabytes": 5}) == {
        "per_volume_gigabytes": 1}


def test_absolute_limits():
    limits = {"volumes": 10, "snapshots": 5, "gigabytes": 100, "backups": 3, "backup_gigabytes": 50}
    out = quotas.absolute_limits(limits, {"volumes": 2, "gigabytes": 7})
    assert out["maxTotalVolumes"] == 10 and out["totalVolumesUsed"] == 2 and out["totalGigabytesUsed"] == 7
    assert out["totalBackupsUsed"] == 0


def test_service_rows_filter_by_binary_and_host(tmp_path):
    backends = Backends(None, tmp_path, ["file", "file2"], 10)
    assert [r["binary"] for r in services.service_rows(backends, True, {})] == [
        "cinder-scheduler", "cinder-volume", "cinder-volume", "cinder-backup"]
    rows = services.service_rows(backends, False, {"host": f"{HOST}@file2"})
    assert [(r["binary"], r["host"], r["state"]) for r in rows] == [("cinder-volume", f"{HOST}@file2", "down")]
    assert services.service_rows(backends, True, {"binary": "cinder-backup", "host": f"{HOST}@file"}) == []


def test_capabilities_view_namespaces_the_drivers_own():
    caps = Capabilities("file", "pocketstack", "1.0", "file", 100.0, 90.0, 10.0, True, False,
                        vendor={"pocketstack:sparse": True})
    view = capabilities_view(caps, f"{HOST}@file")
    assert view["namespace"] == "OS::Storage::Capabilities::" + f"{HOST}@file"
    assert view["properties"]["pocketstack:sparse"]["type"] == "bool"
    assert view["properties"]["multiattach"]["type"] == "boolean"


def test_declared_bodies_are_the_create_schemas():
    assert validate({"volume": {"size": 1}}, schemas.CREATE_VOLUME)
    assert refused(validate, {}, schemas.CREATE_VOLUME).message == "'volume' is a required property"
    assert refused(validate, {"backup": {"volume_id": "nope"}}, schemas.CREATE_BACKUP).message == (
        "Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'")


# -- handlers on a real database -------------------------------------------------------------------
@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('volume')}/volume.db")
    Base.metadata.create_all(database.engine, tables=[t for name, t in Base.metadata.tables.items()
                                                      if name.startswith("volume_")])
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def caller(*roles: str, project: str = "p1") -> RequestContext:
    return RequestContext(user_id="u1", user_name="alice", project_id=project, project_name="proj", roles=list(roles))


def request(enforcer: Enforcer, method: str, path: str, context: RequestContext | None, body: bytes = b"",
            query: bytes = b"", **path_params: str) -> ApiRequest:
    scope = {"type": "http", "method": method, "path": path, "query_string": query, "path_params": path_params,
             "headers": []}
    return ApiRequest(Request(scope), context, enforcer, body=body,
                      attributes={"service_url": "http://cloud/volume"})


def serve(handler, req: ApiRequest):
    """Call a handler as the wrapper does: with its declaration (the policy it enforces)
    and its declared body validated -- once the policy passed, for a route declared
    ``authorize_first`` (the wrapper's ``validate_later``)."""
    route = req.route = next(r for r in Router().include(handler.__self__).routes if r.handler == handler)
    schema = route.schema_for(req.version)
    if schema is not None:
        def check() -> None:
            req.data = validate(req.json(), schema)
        if route.authorize_first:
            req.validate_later = check
        else:
            check()
    return handler(req)


def test_types_need_the_admin_to_manage_them(db, enforcer):
    api = types.TypesApi(Types(db), Qos(db))
    api.types.ensure_default()
    body = b'{"volume_type": {"name": "gold", "extra_specs": {"tier": 1}}}'
    # The rule is enforced before the body is read: a member's bad body is still a 403.
    with pytest.raises(Forbidden):
        serve(api.create, request(enforcer, "POST", "/types", caller("member"), b'{"volume_type": 5}'))
    created = serve(api.create, request(enforcer, "POST", "/types", caller("admin"), body))["volume_type"]
    assert created["extra_specs"] == {"tier": "1"} and "qos_specs_id" not in created
    listed = serve(api.index, request(enforcer, "GET", "/types", caller("reader")))["volume_types"]
    assert {"gold", "__DEFAULT__"} <= {t["name"] for t in listed}
    error = refused(serve, api.spec, request(enforcer, "GET", "/x", caller("reader"), type_id=created["id"],
                                             key="none"))
    assert (error.status, error.message) == (404, f"Volume Type {created['id']} has no extra specs with key none.")
    error = refused(serve, api.show, request(enforcer, "GET", "/x", caller("reader"), type_id="missing"))
    assert error.message == "Volume type missing could not be found."


def test_qos_handlers(db, enforcer):
    api = qos.QosApi(Qos(db))
    made = serve(api.create, request(enforcer, "POST", "/qos-specs", caller("admin"),
                              b'{"qos_specs": {"name": "fast", "read_iops_sec": "100"}}'))
    assert made["qos_specs"]["specs"] == {"read_iops_sec": "100"} and made["qos_specs"]["consumer"] == "back-end"
    assert made["links"][0]["href"] == f"http://cloud/volume/v3/qos-specs/{made['qos_specs']['id']}"
    error = refused(serve, api.create, request(enforcer, "POST", "/qos-specs", caller("admin"),
                                        b'{"qos_specs": {"name": "fast"}}'))
    assert (error.status, error.message) == (409, "QoS Specs fast already exists.")
    error = refused(serve, api.show, request(enforcer, "GET", "/x", caller("admin"), qos_id="nope"))
    assert (error.status, error.message) == (404, "QoS Specs nope could not be found.")
    with pytest.raises(Forbidden):
        serve(api.index, request(enforcer, "GET", "/qos-specs", caller("member")))


def test_quota_handlers(db, enforcer):
    api = quotas.QuotasApi(Quotas(db), Types(db))
    shown = serve(api.show, request(enforcer, "GET", "/x", caller("reader"), query=b"usage=true", target="p1"))
    assert shown["quota_set"]["volumes"]["in_use"] == 0
    with pytest.raises(Forbidden):  # another project's quotas
        serve(api.show, request(enforcer, "GET", "/x", caller("reader"), target="p2"))
    updated = serve(api.update, request(enforcer, "PUT", "/x", caller("admin"), b'{"quota_set": {"volumes": 7}}',
                                 target="p1"))
    assert updated["quota_set"]["volumes"] == 7
    error = refused(serve, api.update, request(enforcer, "PUT", "/x", caller("admin"), b'{"quota_set": {}}',
                                               target="p1"))
    assert error.message == "Invalid input for field/attribute quota_set. Value: {}. {} should be non-empty"


def add_volume(db, project: str) -> str:
    volume_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(m.Volume(id=volume_id, project_id=project, size=1, status="available"))
    return volume_id


def test_one_metadata_class_serves_volumes_and_snapshots(db, enforcer):
    records = Volumes(db, None, Types(db), Quotas(db), None)
    api = MetadataApi(records, "volume_id", "volume:get_volume_metadata", "volume:update_volume_metadata",
                      lambda volume_id, key: errors.VolumeMetadataNotFound(volume_id=volume_id, metadata_key=key))
    vid = add_volume(db, "p1")

    def call(handler, context, body=b"", **params):
        return serve(handler, request(enforcer, "PUT", f"/volumes/{vid}/metadata", context, body, volume_id=vid,
                                      **params))

    assert call(api.replace, caller("member"), b'{"metadata": {"a": "1", "b": "2"}}') == {
        "metadata": {"a": "1", "b": "2"}}
    assert call(api.add, caller("member"), b'{"metadata": {"b": "3"}}') == {"metadata": {"a": "1", "b": "3"}}
    assert call(api.show, caller("reader"), key="a") == {"meta": {"a": "1"}}
    assert call(api.set_item, caller("member"), b'{"meta": {"c": "4"}}', key="c") == {"meta": {"c": "4"}}
    assert call(api.delete, caller("member"), key="c").status_code == 200
    assert call(api.index, caller("reader")) == {"metadata": {"a": "1", "b": "3"}}
    # Cinder's order: another project's volume is a 404, a reader's write a 403, then the body.
    error = refused(call, api.index, caller("member", project="p2"))
    assert (error.status, error.message) == (404, f"Volume {vid} could not be found.")
    with pytest.raises(Forbidden):
        call(api.add, caller("reader"), b"not json")
    assert refused(call, api.set_item, caller("member"), b'{"meta": {"x": "1"}}', key="y").message == (
        "Request body and URI mismatch")
    assert refused(call, api.show, caller("reader"), key="zz").message == (
        f"Metadata key zz for volume {vid} could not be found.")
    assert refused(call, api.delete, caller("member"), key="zz").status == 404

    snapshot_api = MetadataApi(Snapshots(db, None, records, Quotas(db), Types(db)), "snapshot_id",
                               "volume:get_snapshot", "volume:update_snapshot",
                               lambda snapshot_id, key: errors.SnapshotMetadataNotFound())
    sid = str(uuid.uuid4())
    with db.session() as s:
        s.add(m.Snapshot(id=sid, project_id="p1", volume_id=vid, size=1, status="available"))
    req = request(enforcer, "GET", "/x", caller("reader"), snapshot_id=sid, key="nope")
    assert refused(serve, snapshot_api.show, req).message == "Metadata item was not found"
    put = request(enforcer, "PUT", "/x", caller("member"), b'{"metadata": {"k": "v"}}', snapshot_id=sid)
    assert serve(snapshot_api.replace, put) == {"metadata": {"k": "v"}}



# -- the contract compute calls -----------------------------------------------------------------
@pytest.mark.parametrize("protocol,implementation", [
    (contract.VolumeRecords, Volumes), (contract.SnapshotRecords, Snapshots), (contract.AttachmentRecords, Attachments),
    (contract.TypeRecords, Types),
])
def test_the_records_compute_calls_match_the_contract(protocol, implementation):
    """``VolumeContract``'s parts name what VolumeManager's volumes, snapshots,
    attachments and types offer, with the same parameters (compute calls them by keyword too)."""
    for name, method in inspect.getmembers(protocol, inspect.isfunction):
        if name.startswith("_"):
            continue
        wanted = inspect.signature(method).parameters
        offered = inspect.signature(getattr(implementation, name)).parameters
        assert list(offered) == list(wanted), name
        assert [p.default for p in offered.values()] == [p.default for p in wanted.values()], name
    assert set(typing.get_type_hints(contract.VolumeContract)) == {"volumes", "snapshots", "attachments", "types"}


def test_refusals_written_more_than_once_are_named():
    from pocketstack.volume.backups import decode_record

    for record in ("not base64!", "WzFd"):  # not base64; base64 of a JSON list
        error = refused(decode_record, record)
        assert isinstance(error, errors.BackupRecordUnparsable)
        assert (error.status, error.message) == (400, "Invalid input received: Can't parse backup record.")
    error = refused(validate, {"reset_status": {"status": " "}}, schemas.GROUP_ACTIONS["reset_status"])
    assert isinstance(error, errors.GroupStatusEmpty)
    assert error.message == "Invalid Group Status: The 'status' can not be empty."
    error = refused(validate, {"reset_status": {"status": ""}}, schemas.GROUP_SNAPSHOT_ACTIONS["reset_status"])
    assert isinstance(error, errors.GroupSnapshotStatusEmpty)
    assert error.message == "Invalid GroupSnapshot Status: The 'status' can not be empty."
