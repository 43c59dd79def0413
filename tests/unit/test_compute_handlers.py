"""Compute's servers API without a cloud: building a boot request and reading a listing's
query (the plain functions the handlers call), the create body by microversion as the
route declares it, and the handlers that need nothing but the request."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import string

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import ApiError
from pocketstack.common.policy import Enforcer
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api import actions, common, servers
from pocketstack.compute.api.actions import ServerActionsApi
from pocketstack.compute.api.extensions import ExtensionsApi
from pocketstack.compute.api.schemas import servers as schemas
from pocketstack.compute.api.servers import NetworkRequest, ServersApi
from pocketstack.compute.api.versions import VersionsApi
from pocketstack.compute.policies import RULES

V21, V25, V226, V238 = Version(2, 1), Version(2, 5), Version(2, 26), Version(2, 38)


def refused(error: type[ApiError], call, *args, **kwargs) -> ApiError:
    with pytest.raises(error) as raised:
        call(*args, **kwargs)
    return raised.value


# -- query parameters --------------------------------------------------------------------------
def test_boolean_query_takes_oslos_strict_words():
    assert [common.query_bool(v, "x") for v in ("1", " True", "YES", "0", "f", "off")] == [
        True, True, True, False, False, False]
    error = refused(errors.InvalidBooleanQuery, common.query_bool, "maybe", "is_public")
    assert (error.status, error.fields["name"]) == (400, "is_public")
    assert error.message == "Invalid value 'maybe' for is_public: expected one of 1, t, true, on, y, yes, 0, f, " \
                            "false, off, n, no"


# -- building a boot request ----------------------------------------------------------------
def test_counts_accept_digit_strings_and_default_max_to_min():
    assert servers.parse_count("3", "min_count") == 3
    assert servers.instance_counts({}) == (1, 1)
    assert servers.instance_counts({"min_count": 2}) == (2, 2)
    assert servers.instance_counts({"min_count": "1", "max_count": 4}) == (1, 4)
    assert servers.requested_max({"min_count": 3}) == 3


@pytest.mark.parametrize("value", [0, "x", None, -1])
def test_count_refusals_name_the_field(value):
    error = refused(errors.InvalidCount, servers.parse_count, value, "max_count")
    assert (error.status, error.message) == (400, f"Invalid input for field/attribute max_count. Value: {value}.")


def test_min_count_above_max_count_is_refused():
    error = refused(errors.CountRange, servers.instance_counts, {"min_count": 3, "max_count": 2})
    assert (error.status, error.message) == (400, "min_count must be <= max_count")


def test_boot_image_from_a_link_or_the_root_image_mapping():
    assert servers.boot_image_id({"imageRef": "http://x/images/abc"}) == "abc"
    mapping = {"imageRef": "", "block_device_mapping_v2": [
        {"boot_index": 1, "source_type": "image", "uuid": "other"},
        {"boot_index": "0", "source_type": "image", "uuid": "root"}]}
    assert servers.boot_image_id(mapping) == "root"
    error = refused(errors.ImageRefMissing, servers.boot_image_id, {"block_device_mapping_v2": []})
    assert error.message == "Missing imageRef attribute"


def test_image_must_fit_the_flavor_and_disk_zero_grows():
    servers.check_image_fits({"ram": 512, "disk": 0}, 256, 20)  # disk 0: sized to the image
    assert refused(errors.FlavorMemoryTooSmall, servers.check_image_fits, {"ram": 128, "disk": 1}, 256, 0).status == 400
    error = refused(errors.FlavorDiskTooSmall, servers.check_image_fits, {"ram": 512, "disk": 1}, 0, 2)
    assert error.message == "Flavor's disk is too small for requested image."


def test_small_fields_of_a_boot_request():
    assert servers.security_group_names({}) == ["default"]
    assert servers.security_group_names({"security_groups": [{"name": "web"}, {}]}) == ["web", "default"]
    assert servers.config_drive({"config_drive": "TRUE"}) == "True"
    assert servers.config_drive({"config_drive": False}) == ""
    assert servers.wants_reservation_id({"return_reservation_id": True})
    assert not servers.wants_reservation_id({"return_reservation_id": "no"})
    assert servers.scheduler_hints({"OS-SCH-HNT:scheduler_hints": {"group": "g"}}) == {"group": "g"}
    assert servers.scheduler_hints({"os:scheduler_hints": {"a": 1}, "OS-SCH-HNT:scheduler_hints": {"b": 2}}) \
        == {"a": 1}
    assert servers.reference_id(7) == "7" and servers.reference_id(None) == ""


def test_networks_are_checked_before_any_lookup():
    parsed = servers.parse_networks([{"port": "p1"}, {"uuid": "n1", "fixed_ip": "10.0.0.5"}, {"uuid": "n2"}], 1)
    assert parsed == [NetworkRequest(port_id="p1"), NetworkRequest(network_id="n1", fixed_ip="10.0.0.5"),
                      NetworkRequest(network_id="n2")]
    assert servers.parse_networks([{"uuid": "n1"}], 5) == [NetworkRequest(network_id="n1")]


@pytest.mark.parametrize("networks,max_count,error,message", [
    ([{"port": "p1"}], 2, errors.MultiplePortsNotApplicable, "Unable to launch multiple instances"),
    ([{"fixed_ip": "10.0.0.5"}], 1, errors.BadNetworksFormat, "Bad networks format"),
    ([{"uuid": "n1", "fixed_ip": "10.0.0.300"}], 1, errors.InvalidFixedIpAddress,
     "Invalid fixed IP address (10.0.0.300)"),
    ([{"uuid": "n1", "fixed_ip": "10.0.0.5"}], 2, errors.FixedIpWithMultipleInstances,
     "max_count cannot be greater than 1"),
])
def test_network_refusals(networks, max_count, error, message):
    raised = refused(error, servers.parse_networks, networks, max_count)
    assert raised.status == 400 and raised.message.startswith(message)


# -- the create body by microversion ----------------------------------------------------------
def _create_route():
    return next(r for r in Router().include(ServersApi).routes if r.method == "POST" and r.path == "/v2.1/servers")


BASE = {"name": "vm", "flavorRef": "1", "imageRef": "i"}


def test_create_body_follows_the_microversion():
    route = _create_route()
    assert route.policy == "os_compute_api:servers:create"
    with pytest.raises(ApiError):  # description arrives in 2.19
        validate({"server": {**BASE, "description": "d"}}, route.schema_for(Version(2, 18)))
    validate({"server": {**BASE, "description": "d"}}, route.schema_for(Version(2, 19)))
    validate({"server": BASE}, route.schema_for(Version(2, 36)))
    with pytest.raises(ApiError, match="'networks' is a required property"):
        validate({"server": BASE}, route.schema_for(Version(2, 37)))
    with pytest.raises(ApiError):  # tags arrive in 2.52
        validate({"server": {**BASE, "networks": "auto", "tags": ["a"]}}, route.schema_for(Version(2, 51)))
    validate({"server": {**BASE, "networks": "auto", "tags": ["a"]}}, route.schema_for(Version(2, 52)))
    validate({"server": {**BASE, "networks": "none", "personality": []}}, route.schema_for(Version(2, 56)))
    with pytest.raises(ApiError, match="'personality' was unexpected"):
        validate({"server": {**BASE, "networks": "none", "personality": []}}, route.schema_for(Version(2, 57)))


def test_update_body_takes_description_from_2_19():
    with pytest.raises(ApiError):
        validate({"server": {"description": "d"}}, schemas.UPDATE["2.1"])
    validate({"server": {"description": None, "name": "n"}}, schemas.UPDATE["2.19"])


# -- reading a listing's query ----------------------------------------------------------------
def test_times_become_naive_utc():
    assert common.parse_time("2024-01-02T03:04:05Z", "changes-since") == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert common.parse_time("2024-01-02T05:04:05+02:00", "x") == dt.datetime(2024, 1, 2, 3, 4, 5)
    error = refused(errors.InvalidFilterTime, common.parse_time, "yesterday", "changes-since")
    assert error.message == "Invalid filter field: changes-since. Value: yesterday."


def test_all_tenants_empty_or_true():
    assert servers.wants_all_tenants(QueryParams("all_tenants="))
    assert servers.wants_all_tenants(QueryParams("all_tenants=1"))
    assert not servers.wants_all_tenants(QueryParams("all_tenants=false"))
    assert not servers.wants_all_tenants(QueryParams(""))


def test_filters_from_the_query():
    query = QueryParams("name=web&status=ACTIVE&status=shutoff&host=h1&user_id=u&changes-since=2024-01-01T00:00:00"
                        "&tags=a,b&not-tags-any=c&flavor=f")
    f, patterns = servers.parse_filters(query, "p1", admin=False, version=V226)
    assert (f.project_id, f.name, f.flavor_id) == ("p1", "web", "f")
    assert f.vm_states == st.STATUS_FILTER["ACTIVE"] + st.STATUS_FILTER["SHUTOFF"]
    assert f.host is None and f.user_id is None  # only admins filter by host and user
    assert f.changes_since == dt.datetime(2024, 1, 1)
    assert (f.tags, f.not_tags_any) == (["a", "b"], ["c"]) and patterns == {}
    admin, _ = servers.parse_filters(query, None, admin=True, version=V21)
    assert (admin.host, admin.user_id, admin.tags) == ("h1", "u", [])  # tags filters from 2.26


def test_unknown_status_matches_nothing_then_is_refused_from_2_38():
    f, patterns = servers.parse_filters(QueryParams("status=nonsense&name=x"), "p1", admin=False, version=V21)
    assert f.vm_states == [] and f.name is None and patterns == {}
    error = refused(errors.InvalidStatusFilter, servers.parse_filters, QueryParams("status=nonsense"), "p1",
                    admin=False, version=V238)
    assert error.message == "Invalid status value nonsense"


def test_ip_filters():
    _, patterns = servers.parse_filters(QueryParams("ip=10.0.&ip6=fd00"), "p1", admin=False, version=V21)
    assert list(patterns) == [4]  # ip6 needs 2.5 (or an admin)
    _, patterns = servers.parse_filters(QueryParams("ip=10.0.&ip6=fd00"), "p1", admin=False, version=V25)
    assert sorted(patterns) == [4, 6]
    error = refused(errors.InvalidIpFilter, servers.parse_filters, QueryParams("ip6=("), "p1", admin=True,
                    version=V21)
    assert error.message == "Invalid ip6 filter regex '('."
    assert servers.ip_substring({4: re.compile(r"^10\.0\.0\.")}) == "10.0.0."
    assert servers.ip_substring({4: re.compile("10.*")}) is None
    assert servers.ip_substring({4: re.compile("1"), 6: re.compile("f")}) is None
    ports = [{"device_id": "s1", "device_owner": "compute:nova", "fixed_ips": [{"ip_address": "10.0.0.5"}]},
             {"device_id": "s2", "device_owner": "compute:nova", "fixed_ips": [{"ip_address": "110.0.0.5"}]},
             {"device_id": "r1", "device_owner": "network:router_interface",
              "fixed_ips": [{"ip_address": "10.0.0.1"}]},
             {"device_id": "s3", "device_owner": "compute:nova", "fixed_ips": [{"ip_address": "fd00::5"}]}]
    assert servers.matching_servers(ports, {4: re.compile(r"10\.0")}) == ["s1"]
    assert servers.matching_servers(ports, {6: re.compile("fd00")}) == ["s3"]


def test_sorting():
    assert servers.parse_sort(QueryParams(""), False, V21) == [("created_at", "desc"), ("uuid", "desc")]
    assert servers.parse_sort(QueryParams("sort_key=display_name&sort_dir=asc&sort_key=uuid"), False, V21) == \
        [("display_name", "asc"), ("uuid", "desc"), ("created_at", "desc")]
    assert refused(errors.InvalidServerSortKey, servers.parse_sort, QueryParams("sort_key=bogus"), False, V21).status \
        == 400
    assert refused(errors.InvalidSortDirection, servers.parse_sort, QueryParams("sort_dir=up"), False, V21).status \
        == 400
    error = refused(errors.SortKeyForbidden, servers.parse_sort, QueryParams("sort_key=host"), False, V21)
    assert (error.status, error.message) == (403, "Only administrators can sort servers by host")
    assert servers.parse_sort(QueryParams("sort_key=host"), True, V21)[0] == ("host", "desc")
    # ``locked`` is a sort key from 2.73.
    assert refused(errors.InvalidServerSortKey, servers.parse_sort, QueryParams("sort_key=locked"), False,
                   Version(2, 72)).status == 400
    assert servers.parse_sort(QueryParams("sort_key=locked"), False, Version(2, 73))[0] == ("locked", "desc")


# -- console output --------------------------------------------------------------------------
def test_console_length_and_tail():
    assert actions.console_length({}) is None and actions.console_length({"length": "-1"}) is None
    assert actions.console_length({"length": "2"}) == 2
    assert refused(errors.InvalidConsoleLength, actions.console_length, {"length": -5}).status == 400
    assert actions.tail("a\nb\nc", None) == "a\nb\nc"
    assert actions.tail("a\nb\nc", 2) == "b\nc"
    assert actions.tail("a\nb\nc", 0) == ""


# -- handlers that need nothing but the request -----------------------------------------------
@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def request(enforcer: Enforcer, method: str, path: str, body: bytes = b"", **path_params: str) -> ApiRequest:
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "path_params": path_params,
             "headers": []}
    context = RequestContext(user_id="u1", user_name="alice", project_id="p1", project_name="proj",
                             roles=["member", "reader"])
    req = ApiRequest(Request(scope), context, enforcer,
                     attributes={"service_url": "http://cloud/compute", "version": Version(2, 64)})
    req.body = body
    return req


def test_versions(enforcer):
    listed = VersionsApi().index(request(enforcer, "GET", "/"))["versions"]
    # Nova lists the legacy v2.0 first, each version with only its self link.
    assert [v["id"] for v in listed] == ["v2.0", "v2.1"] and "media-types" not in listed[0]
    assert [v["links"] for v in listed] == [[{"rel": "self", "href": "http://cloud/compute/v2/"}],
                                            [{"rel": "self", "href": "http://cloud/compute/v2.1/"}]]
    legacy = VersionsApi().show_v20(request(enforcer, "GET", "/v2"))["version"]
    assert (legacy["id"], legacy["status"], legacy["version"], legacy["min_version"]) == ("v2.0", "DEPRECATED", "", "")
    assert legacy["links"][0] == {"rel": "self", "href": "http://cloud/compute/v2/"}
    shown = VersionsApi().show(request(enforcer, "GET", "/v2.1"))["version"]
    assert shown["links"][0]["href"] == "http://cloud/compute/v2.1/" and shown["min_version"] == "2.1"


def test_extensions(enforcer):
    api = ExtensionsApi()
    aliases = {e["alias"] for e in api.index(request(enforcer, "GET", "/v2.1/extensions"))["extensions"]}
    assert "os-lock-server" in aliases
    shown = api.show(request(enforcer, "GET", "/v2.1/extensions/os-lock-server", alias="os-lock-server"))
    assert shown["extension"]["name"] == "Lock"
    error = refused(errors.ExtensionNotFound, api.show, request(enforcer, "GET", "/", alias="nope"))
    assert (error.status, error.message) == (404, "Extension nope could not be found.")


@pytest.mark.parametrize("body,error,message", [
    (b'{"reboot": {}, "pause": null}', errors.ActionBodyMalformed,
     "There is no such action: the body must hold exactly one action."),
    (b"[]", errors.ActionBodyMalformed, "There is no such action: the body must hold exactly one action."),
    (b'{"fly": null}', errors.NoSuchAction, "There is no such action: fly"),
])
def test_an_action_is_named_before_anything_is_looked_up(enforcer, body, error, message):
    # No compute at all: the body is refused before any part of it is needed.
    api = ServerActionsApi(None)  # type: ignore[arg-type]
    raised = refused(error, api.action, request(enforcer, "POST", "/v2.1/servers/s/action", body, server_id="s"))
    assert (raised.status, raised.message) == (400, message)


# -- named errors ------------------------------------------------------------------------------
def _named_errors():
    return [c for c in vars(errors).values()
            if isinstance(c, type) and issubclass(c, ApiError) and c.__module__ == errors.__name__]


@pytest.mark.parametrize("error", _named_errors(), ids=lambda c: c.__name__)
def test_every_named_error_formats_from_its_fields(error):
    """A field may not take a name ``ApiError`` itself takes (``status``, ``message``...)."""
    parsed = [(name, spec) for _, name, spec, _ in string.Formatter().parse(error.msg_fmt) if name]
    fields = {name for name, _ in parsed}
    assert not fields & set(inspect.signature(ApiError.__init__).parameters), error.__name__
    # A field with a format spec ("{factor:g}") is a number.
    raised = error(**{name: 1.5 if spec else f"<{name}>" for name, spec in parsed})
    assert 400 <= raised.status < 600 and "{" not in raised.message


def test_the_caller_ids_a_create_needs(enforcer):
    req = request(enforcer, "POST", "/v2.1/servers")
    assert (common.caller_id(req), common.caller_project(req)) == ("u1", "p1")
    req.context = RequestContext(user_id="u1", roles=["admin"], system_scope="all")
    error = refused(errors.ProjectScopeRequired, common.caller_project, req)
    assert (error.status, error.message) == (403, "This action needs a project-scoped token.")
    req.context = RequestContext(project_id="p1", roles=["member"])
    assert refused(errors.AuthenticationRequired, common.caller_id, req).status == 401


def test_changes_window_by_microversion():
    query = {"changes-since": "2024-01-02T00:00:00Z", "changes-before": "2024-01-01T00:00:00Z"}
    assert common.changes_window(query, Version(2, 65)) == (dt.datetime(2024, 1, 2), None)
    assert common.changes_window(query, Version(2, 57), since_from=(2, 58)) == (None, None)
    assert refused(errors.ChangesWindowCrossed, common.changes_window, query, Version(2, 66)).status == 400
    assert common.changes_window({"changes-before": "2024-01-01"}, Version(2, 66)) == (None, dt.datetime(2024, 1, 1))
