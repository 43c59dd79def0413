"""A wait condition signalled by a real guest's user data, as Heat users write it.

``pocketstack up --hypervisor qemu`` with the linux datapath: an external network whose
"outside" is a namespace this test creates (test_guest_networking's), a private network
behind a router.  Two stacks, each a ``WaitConditionHandle``, a ``WaitCondition``
(count 1, timeout 300) and an ``OS::Nova::Server`` booted from the tiny image on the
private network, whose ``user_data`` is a script made with ``str_replace`` of the
handle's ``curl_cli`` (``wc_notify --data-binary '{"status": ...}'``).  The guest reads
its own uuid from the metadata service (the router's proxy) and signals its uuid,
hostname and kernel release: the first stack is ``CREATE_COMPLETE`` with exactly that as
the wait condition's ``data``, the second, whose guest signals ``FAILURE``, is
``CREATE_FAILED`` with the guest's reason.

The guest reaches Orchestration as a guest of a real cloud does, through its router
(SNAT to the router's gateway address) to an address on the external network: the
outside namespace's, where a relay passes connections to the cloud on the host's
loopback (nothing else is ever connected to).  The handle's signal URL names that
address because the cloud is started with ``orchestration_heat_url`` (Heat's
``[clients_heat] url``) pointing there, while the CLI keeps using the catalog's URL.

Needs root, QEMU, nftables, dnsmasq and the tiny image's tools: skipped without them,
failed on CI (CI=true).  Every namespace carries a prefix unique to the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from test_guest_networking import Outside, cleanup
from test_guest_networking import prefix as prefix  # noqa: F401 - the fixture, used by name
from test_qemu_guests import BOOT_TIMEOUT, LOGIN, facts, guest_processes
from test_tiny_image import kvm_works

from pocketstack.common import netns
from tinyimage import tiny_image_path

from cloudproc import eventually, running_cloud

WAIT_TIMEOUT = 300
pytestmark = pytest.mark.timeout(int(BOOT_TIMEOUT + WAIT_TIMEOUT + 120))
HEAT_PORT = 8004  # Heat's own port, on the outside namespace's address
TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  status: {type: string, constraints: [{allowed_values: [SUCCESS, FAILURE]}]}
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, count: 1, timeout: %(timeout)d}
  server:
    type: OS::Nova::Server
    properties:
      image: tiny
      flavor: tiny.1
      networks: [{network: private}]
      user_data_format: RAW
      user_data:
        str_replace:
          template: |
            #!/bin/sh
            meta=http://169.254.169.254/openstack/latest/meta_data.json
            uuid=$(curl -s $meta | sed -n 's/.*"uuid": *"\\([0-9a-f-]*\\)".*/\\1/p')
            wc_notify --data-binary "{\\"status\\": \\"$STATUS\\", \\"reason\\": \\"$(hostname) says $STATUS\\", \\
              \\"data\\": \\"$uuid $(hostname) $(uname -r)\\"}"
          params:
            wc_notify: {get_attr: [handle, curl_cli]}
            $STATUS: {get_param: status}
outputs:
  guest: {value: {get_attr: [wait, data]}}
""" % {"timeout": WAIT_TIMEOUT}


@contextlib.contextmanager
def relay(ns: str, address: str, port: int, upstream: tuple[str, int]) -> Iterator[None]:
    """Connections to ``address``:``port`` inside namespace ``ns`` passed on, both ways, to
    ``upstream`` (the cloud on the host's loopback) while the block runs."""
    def listen() -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(16)
        return listener

    def copy(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def connection(client: socket.socket) -> None:
        with client, socket.create_connection(upstream, timeout=60) as server:
            back = threading.Thread(target=copy, args=(server, client), daemon=True)
            back.start()
            copy(client, server)
            back.join(60)

    def serve(listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # shut down: the block is over
                return
            threading.Thread(target=connection, args=(client,), daemon=True).start()

    listener = netns.inside(ns, listen, "relay socket")
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


def test_wait_condition_signalled_by_the_guest_user_data(tmp_path, prefix):
    image = tiny_image_path()  # skips (or fails on CI) without the tools
    r = random.randrange(100, 200)
    outside = Outside(prefix, f"172.31.{r}.1/24")
    heat_url = f"http://172.31.{r}.1:{HEAT_PORT}/orchestration/v1/%(tenant_id)s"
    env = {"POCKETSTACK_NETWORK_DATAPATH": "linux", "POCKETSTACK_NETWORK_DATAPATH_PREFIX": prefix,
           "POCKETSTACK_SHUTDOWN_TIMEOUT": "5", "POCKETSTACK_ORCHESTRATION_HEAT_URL": heat_url,
           "POCKETSTACK_QEMU_ACCEL": os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg")}
    template = tmp_path / "guest.yaml"
    template.write_text(TEMPLATE)
    try:
        with running_cloud(tmp_path, "--hypervisor", "qemu", env=env, startup_timeout=90) as cloud:
            run = cloud.openstack
            run("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare",
                "--file", str(image), "--public", "-f", "json")
            run("flavor", "create", "tiny.1", "--vcpus", "1", "--ram", "128", "--disk", "1", "-f", "json")
            ext = run("network", "create", "--external", "--provider-network-type", "flat",
                      "--provider-physical-network", "public", "ext", "-f", "json")
            run("subnet", "create", "--network", "ext", "--subnet-range", f"172.31.{r}.0/24", "--no-dhcp",
                "--gateway", f"172.31.{r}.1", "--allocation-pool", f"start=172.31.{r}.10,end=172.31.{r}.50",
                "ext-subnet", "-f", "json")
            run("network", "create", "private", "-f", "json")
            run("subnet", "create", "--network", "private", "--subnet-range", f"10.{r}.1.0/24", "private-subnet",
                "-f", "json")
            run("router", "create", "r1", "-f", "json")
            run("router", "set", "--external-gateway", "ext", "r1", parse=False)
            run("router", "add", "subnet", "r1", "private-subnet", parse=False)
            outside.plug(f"br-{ext['id'][:11]}")
            cloud_address = urlsplit(cloud.url)
            assert cloud_address.hostname == "127.0.0.1"  # the relay's only destination: the host's loopback
            with relay(outside.ns, f"172.31.{r}.1", HEAT_PORT, (cloud_address.hostname, cloud_address.port)):
                # Both guests boot at once; the failing one is waited for second.
                run("stack", "create", "-t", str(template), "--parameter", "status=FAILURE", "failing", "-f", "json")
                run("stack", "create", "-t", str(template), "--parameter", "status=SUCCESS", "--wait", "signalled",
                    parse=False, timeout=BOOT_TIMEOUT + 60)  # --wait prints the events

                def show(stack: str) -> dict:
                    return run("stack", "show", stack, "-f", "json")

                def guest(stack: str) -> tuple[str, dict[str, str], str]:
                    """The stack's server: its id, its console's facts and its kernel release,
                    once its user data is done -- and got the signal's answer (curl's status 0)."""
                    server = run("stack", "resource", "show", stack, "server", "-f", "json")["physical_resource_id"]

                    def booted() -> str:  # the console once the login prompt is there ("" before)
                        console = run("console", "log", "show", server, parse=False).stdout
                        return console if LOGIN.search(console) else ""

                    console = eventually(booted, timeout=60, interval=2)
                    assert "tiny: user data exited with status 0" in console, console
                    return server, facts(console), re.search(r"^tiny: .* \(linux (\S+)\)$", console, re.M).group(1)

                # The handle's signal URL is the guest's way in, not the catalog's.
                handle = run("stack", "resource", "show", "signalled", "handle", "-f", "json")["attributes"]
                assert handle["endpoint"].startswith(f"http://172.31.{r}.1:{HEAT_PORT}/orchestration/v1/")

                stack = show("signalled")
                assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
                server, seen, kernel = guest("signalled")
                hostname = seen["hostname"].removeprefix("hostname=")
                [data] = [o["output_value"] for o in stack["outputs"] if o["output_key"] == "guest"]
                # What only the guest knows: its uuid as the metadata service told it, its
                # hostname, its running kernel.
                assert json.loads(data) == {"1": f"{server} {hostname} {kernel}"}
                metadata = run("stack", "resource", "metadata", "signalled", "handle", "-f", "json")
                assert metadata == {"1": {"status": "SUCCESS", "reason": f"{hostname} says SUCCESS",
                                          "data": f"{server} {hostname} {kernel}"}}

                stack = eventually(lambda: (s := show("failing"))["stack_status"] != "CREATE_IN_PROGRESS" and s,
                                   timeout=BOOT_TIMEOUT, interval=3)
                failed_server, seen, _ = guest("failing")
                hostname = seen["hostname"].removeprefix("hostname=")
                assert (stack["stack_status"], stack["stack_status_reason"]) == (
                    "CREATE_FAILED", f"Resource CREATE failed: WaitConditionFailure: resources.wait: {hostname} says "
                                     "FAILURE")

            for name in ("signalled", "failing"):
                run("stack", "delete", "--yes", "--wait", name, parse=False, timeout=120)
            assert run("stack", "list", "-f", "json") == []
            assert guest_processes(server) == [] and guest_processes(failed_server) == []
    finally:
        outside.remove()
        left = cleanup(tmp_path / "data", prefix)
        assert not left, f"namespaces left behind: {left}"
