#!/usr/bin/env bash
# Run Tempest's scenario tests against real guests: a fresh all-in-one cloud of this tree
# with QEMU guests on the Linux datapath, Tempest run inside the "outside" namespace.
#
#   sudo tools/tempest/scenario.sh [--regex 'tempest\.scenario\.test_server_basic_ops'] [--port 18890]
#                                  [--image tiny.qcow2] [--keep]
#   sudo tools/tempest/scenario.sh --api   # the tempest.api methods that need real guests
#
# --api selects the tempest.api methods the whole-cloud run (fake hosts) skips because they
# SSH into their guests (`[validation] run_validation`) or open the noVNC console, and
# ServerActionsV293TestJSON.test_rebuild_volume_backed_server (which SSHes into the rebuilt
# server when validation is on): $API_REGEX below.
#
# Needs root (network namespaces), qemu-system-x86, nftables, dnsmasq-base, busybox-static,
# iputils-ping (Tempest's pings) and socat, and .venv in the tree's root ($POCKETSTACK_VENV:
# another).  Without --image the tiny image is built (or taken from the tests' cache:
# tests/tinyimage.py).
#
# The cloud: `pocketstack up --hypervisor qemu` with network_datapath = "linux" and a
# namespace prefix unique to the run, its API on 127.0.0.1:PORT of the host namespace.
# Set up as a DevStack operator would: the tiny image (public), flavors 42 (1 vCPU,
# 192 MB, 1 GB) and 84 (1 vCPU, 256 MB, 1 GB), an external flat network "public"
# (172.24.4.0/24, no DHCP) whose other side is the namespace <prefix>outside: a veth on
# the external bridge holding the gateway 172.24.4.1, as DevStack's br-ex does.
# Tempest creates a network, subnet and router per test project (create_isolated_networks)
# and reaches guests through floating IPs on "public".
#
# Tempest runs in <prefix>outside (ip netns exec), so its pings and SSH go to floating IPs
# over that veth.  It reaches the API through a relay that changes no namespace's
# addresses or routes: socat listens on 127.0.0.1:PORT inside <prefix>outside and hands
# each connection over a Unix socket in the data directory to a second socat in the host
# namespace, which connects to the cloud on 127.0.0.1:PORT.  The catalog's URLs
# (http://127.0.0.1:PORT/...) are therefore the same on both sides.  Tempest pings with
# iputils' `ping` (busybox's, put first on PATH, when it is missing).  Every packet stays in loopback
# interfaces and namespaces the run creates; they are removed at the end (--keep: left
# running for a look, with the commands that remove them printed).
# Results, known failures: docs/compatibility.md, "Scenario tests with real guests" (--api:
# its subsection "tempest.api methods with real guests").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PORT=18890
REGEX='tempest\.scenario\.test_server_basic_ops'
# The tempest.api methods that only run with validation on (they SSH into the guest) or
# with vnc_console on (a websocket RFB handshake through the noVNC proxy).
c='tempest\.api\.compute\.'
API_REGEX="${c}servers\.test_create_server\.(ServersTestJSON|ServersTestBootFromVolume|ServersTestManualDisk)\.test_(verify_created_server_vcpus|host_name_is_same_as_server_name)\b"
API_REGEX+="|${c}servers\.test_create_server\.ServersTestFqdnHostnames\.test_create_server_with_fqdn_name\b"
API_REGEX+="|${c}servers\.test_create_server\.ServersV294TestFqdnHostnames\.test_verify_hostname_allows_fqdn\b"
API_REGEX+="|${c}admin\.test_create_server\.ServersWithSpecificFlavorTestJSON\.test_verify_created_server_ephemeral_disk\b"
API_REGEX+="|${c}servers\.test_device_tagging\.|${c}servers\.test_attach_interfaces\."
API_REGEX+="|${c}servers\.test_novnc\.|${c}servers\.test_server_actions\.ServerActionsTestOtherB\.test_get_vnc_console\b"
API_REGEX+="|${c}servers\.test_server_actions\.ServerActionsV293TestJSON\.test_rebuild_volume_backed_server\b"
IMAGE=""
KEEP=false
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --regex) REGEX="$2"; shift 2 ;;
        --api) REGEX="$API_REGEX"; shift ;;
        --image) IMAGE="$2"; shift 2 ;;
        --keep) KEEP=true; shift ;;
        -h|--help) sed -n '2,38p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scenario.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" != 0 ]; then
    echo "scenario.sh: needs root (network namespaces)" >&2; exit 2
fi
for tool in ip nft dnsmasq busybox socat qemu-system-x86_64; do
    command -v "$tool" >/dev/null || { echo "scenario.sh: $tool is missing" >&2; exit 2; }
done

bin="${POCKETSTACK_VENV:-$root/.venv}/bin"
export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"   # this tree's code, whichever venv
if [ -z "$IMAGE" ]; then
    IMAGE="$(PYTHONPATH="$root/src:$root/tests" "$bin/python" -c \
        'from tinyimage import tiny_image_path; print(tiny_image_path())' | tail -n 1)"  # a build prints a summary first
fi
data="$(mktemp -d "${TMPDIR:-/tmp}/pocketstack-scenario.XXXXXX")"
prefix="pst$(printf %04x $((RANDOM % 65536)))-"
outside="${prefix}outside"
password=secret
export POCKETSTACK_NETWORK_DATAPATH=linux POCKETSTACK_NETWORK_DATAPATH_PREFIX="$prefix"
export POCKETSTACK_QEMU_ACCEL="${POCKETSTACK_QEMU_ACCEL:-tcg}"

pids=()
cleanup() {
    if [ "$KEEP" = true ]; then
        echo "kept: cloud pid ${pids[0]:-}, relays ${pids[*]:1}, namespaces ${prefix}*, data $data"
        echo "remove: kill ${pids[*]}; PYTHONPATH=$root/src $bin/python -c" \
             "\"from pocketstack.network.drivers.linux import LinuxDriver; from pathlib import Path;" \
             "LinuxDriver(Path('$data/datapath'), prefix='$prefix').destroy()\"; ip netns delete $outside"
        return
    fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for pidfile in "$data"/qemu/*/*/qemu.pid; do
        [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    done
    PYTHONPATH="$root/src" "$bin/python" -c "
from pathlib import Path
from pocketstack.network.drivers.linux import LinuxDriver
LinuxDriver(Path('$data/datapath'), prefix='$prefix').destroy()" || true
    ip netns delete "$outside" 2>/dev/null || true
}
trap cleanup EXIT

"$bin/pocketstack" --data-dir "$data" up --port "$PORT" --admin-password "$password" \
    --clouds-file "$data/clouds.yaml" --hypervisor qemu --metadata-port $((PORT + 1)) \
    >"$data/cloud.log" 2>&1 &
pids+=($!)
for _ in $(seq 180); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/identity/v3" 2>/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "scenario.sh: the cloud exited; see $data/cloud.log" >&2; exit 1; }
    sleep 1
done

export OS_CLIENT_CONFIG_FILE="$data/clouds.yaml" OS_CLOUD=pocketstack
os() { "$bin/openstack" "$@" -f value -c id; }
image=$(os image create --disk-format qcow2 --container-format bare --public --file "$IMAGE" tiny)
os flavor create --vcpus 1 --ram 192 --disk 1 --id 42 tiny.1 >/dev/null
os flavor create --vcpus 1 --ram 256 --disk 1 --id 84 tiny.2 >/dev/null
public=$(os network create --external --provider-network-type flat --provider-physical-network public public)
os subnet create --network public --subnet-range 172.24.4.0/24 --no-dhcp --gateway 172.24.4.1 \
    --allocation-pool start=172.24.4.10,end=172.24.4.250 public-subnet >/dev/null

# The outside: a veth on the external network's bridge (in <prefix>host) holding its gateway.
ip netns add "$outside"
ip -n "$outside" link set lo up
ip -n "$outside" link add eth0 type veth peer name "${prefix%-}-out" netns "${prefix}host"
ip -n "${prefix}host" link set "${prefix%-}-out" master "br-${public:0:11}" up
ip -n "$outside" addr add 172.24.4.1/24 dev eth0
ip -n "$outside" link set eth0 up

# The API relay: outside's 127.0.0.1:PORT -> Unix socket -> host's 127.0.0.1:PORT.
socat UNIX-LISTEN:"$data/api.sock",fork TCP:127.0.0.1:"$PORT" &
pids+=($!)
ip netns exec "$outside" socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$data/api.sock" &
pids+=($!)
for _ in $(seq 20); do
    ip netns exec "$outside" curl -fsS -o /dev/null "http://127.0.0.1:$PORT/identity/v3" 2>/dev/null && break
    sleep 0.5
done

# Tempest pings with `ping -c1 -w1 [-M do -s SIZE]`: iputils' (test_mtu_sized_frames needs
# -M do, don't fragment); without it busybox's, first on PATH (then that test fails).
mkdir -p "$data/bin"
if ! ping -V 2>/dev/null | grep -q iputils; then
    ln -sf "$(command -v busybox)" "$data/bin/ping"
fi

# The tiny image boots in ~10 s under TCG: these timeouts leave plenty of room.
cat >"$data/scenario.conf" <<CONF
[auth]
# A network, subnet and router (gateway on "public") for each test project.
create_isolated_networks = true

[compute]
min_compute_nodes = 1
build_timeout = 300
ready_wait = 0

[compute-feature-enabled]
# Tempest mounts the config drive with sudo and reads the metadata service with curl: the
# tiny image has both (docs/guests.md, "What Tempest runs in the guest"); the metadata
# check also POSTs a password, which the metadata API keeps (docs/guests.md, "Metadata API").
metadata_service = true
config_drive = true
# The noVNC proxy (docs/guests.md, "Consoles"): test_novnc's websocket and RFB handshake.
vnc_console = true

[validation]
run_validation = true
connect_method = floating
auth_method = keypair
image_ssh_user = cirros
image_ssh_password = gocubsgo
image_alt_ssh_user = cirros
image_alt_ssh_password = gocubsgo
ip_version_for_ssh = 4
ping_timeout = 90
connect_timeout = 60
ssh_timeout = 180
floating_ip_range = 172.24.4.0/24
network_for_ssh = public

[network]
project_networks_reachable = false
floating_network_name = public
build_timeout = 300

[network-feature-enabled]
ipv6 = true

[scenario]
img_file = $IMAGE
img_disk_format = qcow2
img_container_format = bare
dhcp_client = udhcpc

[volume]
build_timeout = 300
CONF

rc=0
PATH="$data/bin:$PATH" "$here/run.sh" --auth-url "http://127.0.0.1:$PORT/identity" --admin-password "$password" \
    --image --network --object --volume --compute \
    --image-ref "$image" --flavor-ref 42 --flavor-ref-alt 84 --public-network-id "$public" \
    --extra-conf "$data/scenario.conf" --netns "$outside" \
    --workspace "$data/tempest" --regex "$REGEX" --concurrency 1 || rc=$?
echo "cloud: $data (log cloud.log)"
exit "$rc"
