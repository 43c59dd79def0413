#!/usr/bin/env bash
# Run Tempest's API tests of every service against a fresh all-in-one cloud of this tree.
#
#   tools/tempest/whole-cloud.sh [--port 18990] [--regex 'tempest\.api'] [--concurrency 2] [--datapath linux|noop]
#   tools/tempest/whole-cloud.sh --plugin neutron|cinder [--regex ...]   # a plugin's API tests
#
# Starts `pocketstack up` (SQLite, default API processes, two fake compute hosts; needs .venv in the
# tree's root) in a new data directory -- with the Linux network datapath when run as root with
# ip, nft and dnsmasq (a namespace prefix of its own, everything it made removed at the end), so
# the cloud's own network agent serves DHCP and routers and lists itself as a "DHCP agent" and
# an "L3 agent" (Tempest's agent scheduler tests need one); else (or --datapath noop) with the
# noop datapath, which serves nothing and registers no such agent -- creates two public images, the flavors 42 and 84, a
# shared "private" network, an external "public" one and a router joining them (so floating
# IPs can be associated with servers on "private"), gives object storage a container sync
# realm "realm1" whose cluster "name1" is the cloud itself (syncing every 2 s, to loopback
# only) as Tempest's container sync test expects, serves a small qcow2 on 127.0.0.1 at
# port+1 for the web-download import test (the cloud's import filter allows that port, and
# the cloud's own for glance-download from its region; no test fetches from off the
# machine), gives the Image service two named stores (fast and slow), runs
# tools/tempest/run.sh with
# every service marked available (exclude-list.txt applied), stops the cloud and prints
# stestr's totals.  --plugin runs neutron-tempest-plugin's or cinder-tempest-plugin's API tests
# (installed in Tempest's venv; regex neutron_tempest_plugin\.api or cinder_tempest_plugin\.api
# unless --regex is given) with the plugin's options set to what the cloud offers (with
# --plugin neutron the cloud gets the network quotas of neutron-tempest-plugin's gate
# jobs). For before/after comparisons of a change that should not change
# behaviour: run it on both commits, compare the failed tests (run.log in each workspace).
# The cloud's log is <data dir>/cloud.log.  Results, known failures: docs/compatibility.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PORT=18990
REGEX=''
PLUGIN=''
CONCURRENCY=2
DATAPATH=''
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --regex) REGEX="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --plugin) PLUGIN="$2"; shift 2 ;;
        --datapath) DATAPATH="$2"; shift 2 ;;
        -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "whole-cloud.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$PLUGIN" in
    '') : "${REGEX:=tempest\.api}" ;;
    neutron|cinder) : "${REGEX:=${PLUGIN}_tempest_plugin\.api}" ;;
    *) echo "whole-cloud.sh: --plugin is neutron or cinder, not $PLUGIN" >&2; exit 2 ;;
esac

if [ -z "$DATAPATH" ]; then
    DATAPATH=noop
    if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v nft >/dev/null && command -v dnsmasq >/dev/null; then
        DATAPATH=linux
    fi
fi
case "$DATAPATH" in
    noop|linux) ;;
    *) echo "whole-cloud.sh: --datapath is linux or noop, not $DATAPATH" >&2; exit 2 ;;
esac

bin="$root/.venv/bin"
data="$(mktemp -d "${TMPDIR:-/tmp}/pocketstack-tempest-cloud.XXXXXX")"
prefix=''
if [ "$DATAPATH" = linux ]; then
    prefix="pwc$(printf %04x $((RANDOM % 65536)))-"  # this run's namespaces and devices
    export POCKETSTACK_NETWORK_DATAPATH=linux POCKETSTACK_NETWORK_DATAPATH_PREFIX="$prefix"
fi
password=secret
web_port=$((PORT + 1))
mkdir "$data/web"
printf '[realm1]\nkey = %s\ncluster_name1 = http://127.0.0.1:%s/object-store/v1/\n' \
    "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$PORT" >"$data/container-sync-realms.conf"
qemu-img create -q -f qcow2 "$data/web/import.qcow2" 16M
python3 -m http.server --bind 127.0.0.1 --directory "$data/web" "$web_port" >"$data/web.log" 2>&1 &
web=$!
if [ "$PLUGIN" = neutron ]; then
    # The quotas neutron-tempest-plugin's gate jobs give Neutron (zuul.d, job
    # neutron-tempest-plugin-base: neutron.conf [quotas]); RoutersTest makes more routers
    # in one project than the default 10.
    export POCKETSTACK_NETWORK_QUOTA_ROUTER=100 POCKETSTACK_NETWORK_QUOTA_FLOATINGIP=500 \
        POCKETSTACK_NETWORK_QUOTA_SECURITY_GROUP=150 POCKETSTACK_NETWORK_QUOTA_SECURITY_GROUP_RULE=1000
fi
# The password rules run.sh --security-compliance describes to Tempest (lockout, history);
# two volume file backends, so the multi-backend and retype-with-migration tests run.
POCKETSTACK_LOCKOUT_FAILURE_ATTEMPTS=2 POCKETSTACK_LOCKOUT_DURATION=5 POCKETSTACK_UNIQUE_LAST_PASSWORD_COUNT=2 \
POCKETSTACK_VOLUME_BACKENDS=file,file2 \
POCKETSTACK_IMAGE_IMPORT_ALLOWED_PORTS="80,443,$web_port,$PORT" POCKETSTACK_IMAGE_STORES="fast:100,slow:10" \
POCKETSTACK_OBJECT_CONTAINER_SYNC_REALMS_FILE="$data/container-sync-realms.conf" \
POCKETSTACK_OBJECT_CONTAINER_SYNC_CURRENT=//realm1/name1 POCKETSTACK_OBJECT_CONTAINER_SYNC_INTERVAL=2 \
"$bin/pocketstack" --data-dir "$data" up --port "$PORT" --admin-password "$password" \
    --clouds-file "$data/clouds.yaml" --fake-hosts 2 >"$data/cloud.log" 2>&1 &
cloud=$!
cleanup() {
    kill "$cloud" "$web" 2>/dev/null
    wait "$cloud" "$web" 2>/dev/null || true
    if [ -n "$prefix" ]; then  # the namespaces, bridges and daemons of this run's datapath
        PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}" "$bin/python" -c "
from pathlib import Path
from pocketstack.network.drivers.linux import LinuxDriver
LinuxDriver(Path('$data/datapath'), prefix='$prefix').destroy()" || true
    fi
}
trap cleanup EXIT
printf '[image]\nhttp_qcow2_image = http://127.0.0.1:%s/import.qcow2\n' "$web_port" >"$data/extra.conf"
# Two named image stores with weights (docs/image.md, "Multiple stores"): the multi-store,
# copy-image and store-weight tests run.  Their names sort as their weights do, since
# Tempest's import waiter compares an image's `stores` with the sorted store ids.
printf '[image-feature-enabled]\nstore_weight_enabled = true\n' >>"$data/extra.conf"
# Container sync through the realm above ([object-storage] realm_name and cluster_name are
# Tempest's defaults, repeated to say so), waited for every 2 s for up to 2 minutes; the
# old style (full URLs to 127.0.0.1) works too, though Tempest skips its test (bug 1317133).
printf '[object-storage]\n%s\n%s\n%s\n%s\n[object-storage-feature-enabled]\n%s\n%s\n' 'realm_name = realm1' \
    'cluster_name = name1' 'container_sync_interval = 2' 'container_sync_timeout = 120' 'container_sync = true' \
    "discoverable_apis = $(sed -n 's/^discoverable_apis = //p' "$here/tempest.conf.in"),container_sync" \
    >>"$data/extra.conf"
if [ "$PLUGIN" = neutron ]; then
    # The network types and VLAN physnet the cloud's default settings offer (docs/network.md,
    # Settings): provider networks of each type, physnet1's VLAN range, MTU 1500; shared
    # resources (QoS policies, networks) may be made.
    printf '[neutron_plugin_options]\n%s\n%s\n%s\n%s\n' 'provider_vlans = physnet1' \
        'available_type_drivers = flat,vlan,vxlan,local' 'max_mtu = 1500' 'create_shared_resources = true' \
        >>"$data/extra.conf"
fi
for _ in $(seq 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/identity/v3" 2>/dev/null && break
    kill -0 "$cloud" 2>/dev/null || { echo "whole-cloud.sh: the cloud exited; see $data/cloud.log" >&2; exit 1; }
    sleep 1
done

export OS_CLIENT_CONFIG_FILE="$data/clouds.yaml" OS_CLOUD=pocketstack
os() { "$bin/openstack" "$@" -f value -c id; }
head -c 1048576 /dev/urandom >"$data/img.raw"
image=$(os image create --disk-format raw --container-format bare --public --file "$data/img.raw" cirros)
image_alt=$(os image create --disk-format raw --container-format bare --public --file "$data/img.raw" cirros-alt)
os flavor create --vcpus 1 --ram 64 --disk 1 --id 42 m1.nano >/dev/null
os flavor create --vcpus 1 --ram 128 --disk 1 --id 84 m1.micro >/dev/null
os network create --share private >/dev/null
os subnet create --network private --subnet-range 10.0.0.0/16 private-subnet >/dev/null
public=$(os network create --external public)
os subnet create --network public --subnet-range 172.24.4.0/24 public-subnet >/dev/null
os router create router1 >/dev/null
"$bin/openstack" router set --external-gateway public router1
"$bin/openstack" router add subnet router1 private-subnet
# The volume type of multiattach volumes ([volume] volume_type_multiattach; Tempest makes none).
os volume type create --public --property multiattach='<is> True' multiattach >/dev/null
printf '[volume]\nvolume_type_multiattach = multiattach\n' >>"$data/extra.conf"

"$here/run.sh" --auth-url "http://127.0.0.1:$PORT/identity" --admin-password "$password" \
    --image --network --object --volume --volume-backends file,file2 --compute --security-compliance \
    --image-ref "$image" --image-ref-alt "$image_alt" --flavor-ref 42 --flavor-ref-alt 84 \
    --fixed-network-name private --public-network-id "$public" \
    --extra-conf "$data/extra.conf" --regex "$REGEX" --concurrency "$CONCURRENCY" || true
echo "cloud: $data (log cloud.log, network datapath $DATAPATH)"
