#!/usr/bin/env bash
# Run Tempest (the OpenStack API test suite) against a running pocketstack cloud.
#
#   tools/tempest/run.sh --auth-url http://127.0.0.1:18790/identity --admin-password secret
#   tools/tempest/run.sh ... --regex 'tempest.api.identity.admin.v3.test_roles'
#   tools/tempest/run.sh ... --all         # also run the out-of-scope tests in exclude-list.txt
#   tools/tempest/run.sh ... --plugin keystone   # keystone-tempest-plugin's API tests
#
# Tempest lives in its own virtualenv outside the repository ($TEMPEST_VENV,
# default /opt/tempest-venv); nothing from the repo's .venv is used. With
# --install the venv is created and tempest==$TEMPEST_VERSION installed from PyPI
# when it is missing.
#
# Each run gets a fresh Tempest workspace in a temporary directory (kept after
# the run, its path is printed) holding the generated etc/tempest.conf, the
# stestr repository and logs/tempest.log. The exit code is tempest's: 0 when no
# test failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

AUTH_URL="${TEMPEST_AUTH_URL:-http://127.0.0.1:18790/identity}"
ADMIN_PASSWORD="${TEMPEST_ADMIN_PASSWORD:-}"
ADMIN_USERNAME="${TEMPEST_ADMIN_USERNAME:-admin}"
ADMIN_PROJECT="${TEMPEST_ADMIN_PROJECT:-admin}"
ADMIN_DOMAIN="${TEMPEST_ADMIN_DOMAIN:-Default}"
REGION="${TEMPEST_REGION:-RegionOne}"
REGEX="${TEMPEST_REGEX:-}"
PLUGIN="${TEMPEST_PLUGIN:-}"   # --plugin keystone: keystone-tempest-plugin (default regex: its API tests)
CONCURRENCY="${TEMPEST_CONCURRENCY:-2}"
TEMPEST_VENV="${TEMPEST_VENV:-/opt/tempest-venv}"
TEMPEST_VERSION="${TEMPEST_VERSION:-47.0.0}"
WORKSPACE="${TEMPEST_WORKSPACE:-}"
EXCLUDE_LIST="$here/exclude-list.txt"
DEBUG=false
INSTALL=false
GLANCE=false             # --image: service_available glance
SECURITY_COMPLIANCE=false  # --security-compliance: [identity-feature-enabled] security_compliance
NEUTRON=false            # --network: service_available neutron
SWIFT=false              # --object: service_available swift
PUBLIC_NETWORK_ID="${TEMPEST_PUBLIC_NETWORK_ID:-}"        # [network] public_network_id
FLOATING_NETWORK_NAME="${TEMPEST_FLOATING_NETWORK_NAME:-public}"  # [network] floating_network_name
NOVA=false               # --compute: service_available nova + the [compute*] sections below
CINDER=false             # --volume: service_available cinder + the [volume*] sections below
VOLUME_BACKENDS="${TEMPEST_VOLUME_BACKENDS:-file}"  # [volume] backend_names (the cloud's volume_backends)
IMAGE_REF="${TEMPEST_IMAGE_REF:-}"                # [compute] image_ref
IMAGE_REF_ALT="${TEMPEST_IMAGE_REF_ALT:-}"        # [compute] image_ref_alt
FLAVOR_REF="${TEMPEST_FLAVOR_REF:-}"              # [compute] flavor_ref
FLAVOR_REF_ALT="${TEMPEST_FLAVOR_REF_ALT:-}"      # [compute] flavor_ref_alt
FIXED_NETWORK_NAME="${TEMPEST_FIXED_NETWORK_NAME:-}"  # [compute] fixed_network_name
EXTRA_CONF="${TEMPEST_EXTRA_CONF:-}"     # appended to tempest.conf last (its values win)
NETNS="${TEMPEST_NETNS:-}"               # run tempest inside this network namespace

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<USAGE
Options (environment variable in brackets):
  --auth-url URL         Identity base URL, without /v3 [TEMPEST_AUTH_URL] ($AUTH_URL)
  --admin-password PW    admin password [TEMPEST_ADMIN_PASSWORD] (required)
  --admin-username NAME  [TEMPEST_ADMIN_USERNAME] ($ADMIN_USERNAME)
  --admin-project NAME   [TEMPEST_ADMIN_PROJECT] ($ADMIN_PROJECT)
  --admin-domain NAME    user and project domain [TEMPEST_ADMIN_DOMAIN] ($ADMIN_DOMAIN)
  --region NAME          [TEMPEST_REGION] ($REGION)
  --regex REGEX          test selection [TEMPEST_REGEX] (tempest.api.identity; with
                         --plugin keystone: keystone_tempest_plugin.tests.api)
  --plugin keystone      also load keystone-tempest-plugin (pip-installed into \$TEMPEST_VENV;
                         --install installs it) and mark federation available [TEMPEST_PLUGIN]
  --concurrency N        stestr workers [TEMPEST_CONCURRENCY] ($CONCURRENCY)
  --workspace DIR        workspace directory instead of a new temp dir [TEMPEST_WORKSPACE]
  --all                  don't apply exclude-list.txt (out-of-scope features)
  --debug                debug logging in logs/tempest.log (request/response bodies)
  --install              create \$TEMPEST_VENV with tempest==\$TEMPEST_VERSION if missing
  --image                mark the Image service (glance) available
  --security-compliance  run the password-rules tests; start the cloud with the rules
                         tempest.conf.in's [identity] user_* values describe:
                         POCKETSTACK_LOCKOUT_FAILURE_ATTEMPTS=2 POCKETSTACK_LOCKOUT_DURATION=5
                         POCKETSTACK_UNIQUE_LAST_PASSWORD_COUNT=2
  --network              mark the Networking service (neutron) available
  --object               mark Object Storage (swift) available
  --public-network-id ID external network for router/floating-IP tests [TEMPEST_PUBLIC_NETWORK_ID]
  --floating-network-name NAME  [TEMPEST_FLOATING_NETWORK_NAME] ($FLOATING_NETWORK_NAME)
  --volume               mark Block Storage (cinder) available (file backend, volume 3.0-3.70)
  --volume-backends NAMES  the cloud's file backends, comma-separated (its volume_backends):
                         [volume] backend_names; two or more turn multi_backend on [TEMPEST_VOLUME_BACKENDS]
  --compute              mark Compute (nova) available; needs --image-ref and --flavor-ref
                         (the *-alt ones default to them); start the cloud with --fake-hosts 2
  --image-ref ID         [TEMPEST_IMAGE_REF]    --image-ref-alt ID   [TEMPEST_IMAGE_REF_ALT]
  --flavor-ref ID        [TEMPEST_FLAVOR_REF]   --flavor-ref-alt ID  [TEMPEST_FLAVOR_REF_ALT]
  --fixed-network-name NAME  a shared network servers boot on [TEMPEST_FIXED_NETWORK_NAME]
  --extra-conf FILE      appended to the generated tempest.conf, last, so its values win [TEMPEST_EXTRA_CONF]
  --netns NS             run tempest inside network namespace NS (ip netns exec) [TEMPEST_NETNS]
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
        --auth-url) AUTH_URL="$2"; shift 2 ;;
        --admin-password) ADMIN_PASSWORD="$2"; shift 2 ;;
        --admin-username) ADMIN_USERNAME="$2"; shift 2 ;;
        --admin-project) ADMIN_PROJECT="$2"; shift 2 ;;
        --admin-domain) ADMIN_DOMAIN="$2"; shift 2 ;;
        --region) REGION="$2"; shift 2 ;;
        --regex) REGEX="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --workspace) WORKSPACE="$2"; shift 2 ;;
        --all) EXCLUDE_LIST=""; shift ;;
        --debug) DEBUG=true; shift ;;
        --install) INSTALL=true; shift ;;
        --image) GLANCE=true; shift ;;
        --security-compliance) SECURITY_COMPLIANCE=true; shift ;;
        --network) NEUTRON=true; shift ;;
        --object) SWIFT=true; shift ;;
        --public-network-id) PUBLIC_NETWORK_ID="$2"; shift 2 ;;
        --floating-network-name) FLOATING_NETWORK_NAME="$2"; shift 2 ;;
        --compute) NOVA=true; shift ;;
        --volume) CINDER=true; shift ;;
        --volume-backends) VOLUME_BACKENDS="$2"; shift 2 ;;
        --image-ref) IMAGE_REF="$2"; shift 2 ;;
        --image-ref-alt) IMAGE_REF_ALT="$2"; shift 2 ;;
        --flavor-ref) FLAVOR_REF="$2"; shift 2 ;;
        --flavor-ref-alt) FLAVOR_REF_ALT="$2"; shift 2 ;;
        --fixed-network-name) FIXED_NETWORK_NAME="$2"; shift 2 ;;
        --extra-conf) EXTRA_CONF="$2"; shift 2 ;;
        --netns) NETNS="$2"; shift 2 ;;
        --plugin) PLUGIN="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

if [ -z "$ADMIN_PASSWORD" ]; then
    echo "run.sh: --admin-password (or TEMPEST_ADMIN_PASSWORD) is required" >&2
    exit 2
fi

case "$PLUGIN" in
    "") REGEX="${REGEX:-tempest.api.identity}" ;;
    keystone) REGEX="${REGEX:-keystone_tempest_plugin.tests.api}" ;;
    *) echo "run.sh: unknown plugin: $PLUGIN (known: keystone)" >&2; exit 2 ;;
esac

tempest="$TEMPEST_VENV/bin/tempest"
if [ ! -x "$tempest" ]; then
    if [ "$INSTALL" != true ]; then
        echo "run.sh: no tempest at $tempest; install it with:" >&2
        echo "  python3 -m venv $TEMPEST_VENV && $TEMPEST_VENV/bin/pip install tempest==$TEMPEST_VERSION" >&2
        echo "or rerun with --install" >&2
        exit 2
    fi
    python3 -m venv "$TEMPEST_VENV"
    "$TEMPEST_VENV/bin/pip" install --quiet --upgrade pip
    "$TEMPEST_VENV/bin/pip" install --quiet "tempest==$TEMPEST_VERSION"
fi

if [ "$PLUGIN" = keystone ] && ! "$TEMPEST_VENV/bin/python" -c 'import keystone_tempest_plugin' 2>/dev/null; then
    if [ "$INSTALL" != true ]; then
        echo "run.sh: keystone-tempest-plugin is not in $TEMPEST_VENV; install it with:" >&2
        echo "  $TEMPEST_VENV/bin/pip install keystone-tempest-plugin   (or rerun with --install)" >&2
        exit 2
    fi
    "$TEMPEST_VENV/bin/pip" install --quiet keystone-tempest-plugin
fi

AUTH_URL="${AUTH_URL%/}"
AUTH_URL="${AUTH_URL%/v3}"
if ! curl -fsS -o /dev/null "$AUTH_URL/v3"; then
    echo "run.sh: no Identity API answering at $AUTH_URL/v3 (is the cloud up?)" >&2
    exit 2
fi

if [ -z "$WORKSPACE" ]; then
    WORKSPACE="$(mktemp -d "${TMPDIR:-/tmp}/pocketstack-tempest.XXXXXX")"
fi
mkdir -p "$WORKSPACE"
WORKSPACE="$(cd "$WORKSPACE" && pwd)"
# A private workspace registry, so ~/.tempest/workspace.yaml is left alone. An
# existing workspace (--workspace used before) is reused: its config is rewritten.
if [ ! -f "$WORKSPACE/.stestr.conf" ]; then
    "$tempest" init --workspace-path "$WORKSPACE/workspace.yaml" \
        --name "pocketstack-$(basename "$WORKSPACE")" "$WORKSPACE" >/dev/null
fi

# Fill in the template. Done in Python (tempest's own interpreter), values
# passed through the environment, so any character in them is copied verbatim
# ('$' doubled: oslo.config would otherwise expand it).
PS_WORKSPACE="$WORKSPACE" PS_DEBUG="$DEBUG" PS_IDENTITY_URI_V3="$AUTH_URL/v3" \
PS_REGION="$REGION" PS_ADMIN_USERNAME="$ADMIN_USERNAME" PS_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
PS_ADMIN_PROJECT="$ADMIN_PROJECT" PS_ADMIN_DOMAIN="$ADMIN_DOMAIN" \
PS_GLANCE="$GLANCE" PS_NEUTRON="$NEUTRON" PS_SWIFT="$SWIFT" PS_PUBLIC_NETWORK_ID="$PUBLIC_NETWORK_ID" \
PS_FLOATING_NETWORK_NAME="$FLOATING_NETWORK_NAME" PS_NOVA="$NOVA" PS_SECURITY_COMPLIANCE="$SECURITY_COMPLIANCE" \
"$TEMPEST_VENV/bin/python" - "$here/tempest.conf.in" "$WORKSPACE/etc/tempest.conf" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"@([A-Z][A-Z0-9_]+)@", lambda m: os.environ["PS_" + m.group(1)].replace("$", "$$"), text)
with open(sys.argv[2], "w") as f:
    f.write(text)
PY

if [ "$NOVA" = true ]; then
    if [ -z "$IMAGE_REF" ] || [ -z "$FLAVOR_REF" ]; then
        echo "run.sh: --compute needs --image-ref and --flavor-ref (an image and a flavor that exist)" >&2
        exit 2
    fi
    # What pocketstack's Compute implements (docs/compute.md), so Tempest skips the rest:
    # fake hypervisor hosts (cold and live migration between them, shelve), no guest networking to SSH
    # into, no metadata service or config drive, no serial/SPICE console, microversions 2.1-2.68.
    # OS-DCF:diskConfig is kept and shown (AUTO/MANUAL) as Nova; changePassword reaches the
    # fake driver (the QEMU one answers as Nova's libvirt without a guest agent).
    cat >>"$WORKSPACE/etc/tempest.conf" <<CONF

[compute]
image_ref = $IMAGE_REF
image_ref_alt = ${IMAGE_REF_ALT:-$IMAGE_REF}
flavor_ref = $FLAVOR_REF
flavor_ref_alt = ${FLAVOR_REF_ALT:-$FLAVOR_REF}
fixed_network_name = $FIXED_NETWORK_NAME
min_compute_nodes = 2
min_microversion = 2.1
max_microversion = 2.104
build_timeout = 120

[compute-feature-enabled]
resize = true
disk_config = true
cold_migration = true
live_migration = true
# Live migration copies a server's local disks (the QEMU driver mirrors them with
# blockdev-mirror, docs/guests.md) and moves volume-backed servers alike.
block_migration_for_live_migration = true
volume_backed_live_migration = true
shelve = true
shelve_migrate = false
pause = true
suspend = true
rescue = true
stable_rescue = true
snapshot = true
console_output = true
vnc_console = false
spice_console = false
serial_console = false
change_password = true
# A server's hostname is its name as Nova's sanitize_hostname makes it (compute/instances.py).
hostname_fqdn_sanitization = true
metadata_service = false
config_drive = false
personality = true
interface_attach = $NEUTRON
attach_encrypted_volume = false
swap_volume = true
volume_multiattach = true
scheduler_enabled_filters = ComputeFilter,AvailabilityZoneFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,DifferentHostFilter
CONF
fi

if [ "$NEUTRON" = true ]; then
    # [network-feature-enabled] api_extensions = exactly what the cloud's /v2.0/extensions
    # lists (fetched now, so it never drifts from the code): Tempest skips the tests of
    # the extensions pocketstack does not implement instead of failing them.
    network_extensions="$(PS_IDENTITY_URI_V3="$AUTH_URL/v3" PS_REGION="$REGION" \
        PS_ADMIN_USERNAME="$ADMIN_USERNAME" PS_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        PS_ADMIN_PROJECT="$ADMIN_PROJECT" PS_ADMIN_DOMAIN="$ADMIN_DOMAIN" \
        "$TEMPEST_VENV/bin/python" "$here/network_extensions.py")"
    cat >>"$WORKSPACE/etc/tempest.conf" <<CONF

[network-feature-enabled]
api_extensions = $network_extensions
# IPv6 ra/address modes and port security are implemented (docs/network.md).
ipv6_subnet_attributes = true
port_security = true
CONF
fi

if [ "$CINDER" = true ]; then
    # What pocketstack's Block Storage implements (docs/volume.md): file backends (each its
    # name as volume_backend_name, vendor pocketstack, protocol file; with two or more, types
    # choose one and retype/migration move volumes between them), microversions 3.0-3.70,
    # snapshots, clones, extend (of attached volumes too, 3.42), multiattach volume types,
    # manage/unmanage of volumes and snapshots (a file named by source-name), backups to the
    # object store (swift: objects in the backup's container; posix with volume_backup_store =
    # "directory"); no replication, revert, or encrypted volumes (no key manager).  Multiattach
    # needs [volume] volume_type_multiattach (a type with multiattach="<is> True"; whole-cloud.sh
    # creates one and sets it through --extra-conf).  (A later section's value
    # wins in oslo.config, so this overrides the template's cinder = false.)
    cat >>"$WORKSPACE/etc/tempest.conf" <<CONF

[service_available]
cinder = true

[volume]
catalog_type = block-storage
min_microversion = 3.0
max_microversion = 3.70
backend_names = $VOLUME_BACKENDS
manage_volume_ref = source-name,volume-%s
manage_snapshot_ref = source-name,snapshot-%s
storage_protocol = file
vendor_name = pocketstack
backup_driver = ${BACKUP_DRIVER:-swift}
disk_format = raw
volume_size = 1
build_timeout = 120

[volume-feature-enabled]
multi_backend = $([ "$(tr ',' '\n' <<<"$VOLUME_BACKENDS" | sort -u | grep -c .)" -ge 2 ] && echo true || echo false)
backup = true
snapshot = true
clone = true
manage_snapshot = true
manage_volume = true
replication = false
extend_attached_volume = true
extend_attached_encrypted_volume = false
extend_volume_with_snapshot = true
CONF
fi

if [ "$PLUGIN" = keystone ]; then
    # The plugin's federation API tests (identity providers, mappings, protocols, service
    # providers) run only where federation is on; pocketstack implements its API
    # (docs/identity.md). Its scenario tests need an external IdP and [fed_scenario].
    cat >>"$WORKSPACE/etc/tempest.conf" <<CONF

[identity-feature-enabled]
federation = true
CONF
fi

if [ -n "$EXTRA_CONF" ]; then
    { echo; cat "$EXTRA_CONF"; } >>"$WORKSPACE/etc/tempest.conf"
fi

args=(run --config-file "$WORKSPACE/etc/tempest.conf" --regex "$REGEX" --concurrency "$CONCURRENCY")
if [ -n "$EXCLUDE_LIST" ]; then
    args+=(--exclude-list "$EXCLUDE_LIST")
fi

echo "tempest $("$TEMPEST_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tempest"))')" \
     "against $AUTH_URL/v3, regex '$REGEX'${EXCLUDE_LIST:+, excluding $(basename "$EXCLUDE_LIST")}"
echo "workspace: $WORKSPACE (config etc/tempest.conf, log logs/tempest.log)"
in_netns=()
if [ -n "$NETNS" ]; then
    in_netns=(ip netns exec "$NETNS")
fi
rc=0
(cd "$WORKSPACE" && "${in_netns[@]}" "$tempest" "${args[@]}") >"$WORKSPACE/run.log" 2>&1 || rc=$?
# One line per skipped or failed test, then stestr's totals; tracebacks are in run.log.
grep -E '^\{[0-9]+\} .* \.\.\. (SKIPPED|FAILED)' "$WORKSPACE/run.log" || true
awk '/^Totals$/ { print "======"; p = 1 } /^Worker Balance$/ { exit } p' "$WORKSPACE/run.log" | sed '$d'
if ! grep -q '^Totals$' "$WORKSPACE/run.log"; then
    tail -n 40 "$WORKSPACE/run.log"   # tempest died before running tests (config error?)
fi
echo "full output (tracebacks, request logs): $WORKSPACE/run.log"
exit "$rc"
