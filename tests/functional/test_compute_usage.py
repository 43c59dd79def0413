"""``os-simple-tenant-usage``: hours of the servers that exist, per project."""

from __future__ import annotations

import datetime as dt

from test_compute_helpers import boot, call, make_flavor, make_image, new_member, wait, wait_gone


def test_usage_of_a_project(api, admin_token, demo_token):
    member = new_member(api, admin_token)
    token, project_id = member["token"], member["project"]["id"]
    flavor = make_flavor(api, admin_token, vcpus=2, ram=256, disk=3)
    server_id = boot(api, token, make_image(api, admin_token), flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    start, end = (now - dt.timedelta(days=1)).isoformat(), (now + dt.timedelta(days=1)).isoformat()

    own = call(api, "GET", f"/os-simple-tenant-usage/{project_id}?start={start}&end={end}", token).json()
    usage = own["tenant_usage"]
    one, = usage["server_usages"]
    assert one["instance_id"] == server_id and one["vcpus"] == 2 and one["memory_mb"] == 256
    assert one["local_gb"] == 3 and one["flavor"] == flavor["name"] and one["ended_at"] is None
    assert usage["total_hours"] == one["hours"] >= 0
    assert usage["total_vcpus_usage"] == 2 * one["hours"]

    listed = call(api, "GET", f"/os-simple-tenant-usage?start={start}&end={end}&detailed=1", admin_token).json()
    mine = [u for u in listed["tenant_usages"] if u["tenant_id"] == project_id]
    assert len(mine) == 1 and [s["instance_id"] for s in mine[0]["server_usages"]] == [server_id]
    brief = call(api, "GET", f"/os-simple-tenant-usage?start={start}&end={end}", admin_token).json()
    assert all("server_usages" not in u for u in brief["tenant_usages"])

    assert call(api, "GET", "/os-simple-tenant-usage", token).status_code == 403
    assert call(api, "GET", f"/os-simple-tenant-usage/{project_id}", demo_token).status_code == 403
    r = call(api, "GET", f"/os-simple-tenant-usage/{project_id}?start=yesterday", token)
    assert r.status_code == 400 and "badRequest" in r.json()
    assert call(api, "GET", f"/os-simple-tenant-usage/{project_id}?start={end}&end={start}",
                token).status_code == 400
    call(api, "DELETE", f"/servers/{server_id}", token)
    wait_gone(api, token, server_id)


def test_instance_usage_audit_log_reports_no_host_ran_it(api, admin_token, demo_token):
    log = call(api, "GET", "/os-instance_usage_audit_log", admin_token).json()["instance_usage_audit_logs"]
    assert log["num_hosts"] == len(log["hosts_not_run"]) == log["num_hosts_not_run"] >= 2
    assert log["num_hosts_done"] == 0 and log["log"] == {} and log["period_beginning"] < log["period_ending"]
    old = call(api, "GET", "/os-instance_usage_audit_log/2026-03-15 10:00:00", admin_token).json()
    assert old["instance_usage_audit_log"]["period_beginning"] == "2026-02-01 00:00:00"
    assert old["instance_usage_audit_log"]["period_ending"] == "2026-03-01 00:00:00"
    assert call(api, "GET", "/os-instance_usage_audit_log/invalid_time", admin_token).status_code == 400
    assert call(api, "GET", "/os-instance_usage_audit_log", demo_token).status_code == 403
    assert call(api, "GET", "/os-instance_usage_audit_log/2026-03-15 10:00:00", demo_token).status_code == 403
