#!/usr/bin/env bash
# Install the real OpenStack Keystone (from PyPI) OUTSIDE the repo, configure it as it
# is deployed (SQLite here, Fernet tokens, bcrypt at KEYSTONE_ROUNDS, every cache on,
# backed by memcached) and bootstrap an admin user/project.  Used only for benchmarks;
# see docs/performance.md.  tools/keystone/run.sh serves it (several worker processes,
# its own memcached).
#
#   tools/keystone/setup.sh            # venv /opt/keystone-venv, state /tmp/keystone-bench
#   KEYSTONE_VENV=... KEYSTONE_STATE=... KEYSTONE_ROUNDS=4 tools/keystone/setup.sh
#   KEYSTONE_CACHE=memcached   (default) as deployed: oslo.cache on memcached
#                                 (127.0.0.1:KEYSTONE_MEMCACHED_PORT, started by run.sh)
#   KEYSTONE_CACHE=dict        the in-process cache (each worker its own)
#   KEYSTONE_CACHE=off         every cache off (Keystone as it ships; nobody runs it so)
#
# Idempotent: re-running reuses the venv and rebuilds the state dir from scratch.
set -euo pipefail

VENV=${KEYSTONE_VENV:-/opt/keystone-venv}
STATE=${KEYSTONE_STATE:-/tmp/keystone-bench}
PYTHON=${KEYSTONE_PYTHON:-python3.11}
ROUNDS=${KEYSTONE_ROUNDS:-12}
PORT=${KEYSTONE_PORT:-5000}
MEMCACHED_PORT=${KEYSTONE_MEMCACHED_PORT:-11299}
ADMIN_PASSWORD=${KEYSTONE_ADMIN_PASSWORD:-secret}
# Pin with KEYSTONE_VERSION=27.0.0 etc.; empty means "newest PyPI release for this Python".
VERSION=${KEYSTONE_VERSION:-}
case "${KEYSTONE_CACHE:-memcached}" in
memcached)
    CACHING=true
    CACHE_BACKEND="backend = dogpile.cache.pymemcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT
expiration_time = 600" ;;
dict|1)
    CACHING=true
    CACHE_BACKEND="backend = oslo_cache.dict
expiration_time = 600" ;;
off|0)
    CACHING=false
    CACHE_BACKEND="" ;;
*)
    echo "KEYSTONE_CACHE must be memcached, dict or off" >&2; exit 2 ;;
esac

if [ ! -x "$VENV/bin/keystone-manage" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip setuptools wheel
    spec=keystone${VERSION:+==$VERSION}
    # uwsgi is what devstack uses; fall back to gunicorn if it doesn't build.
    "$VENV/bin/pip" install "$spec"
    if ! "$VENV/bin/pip" install uwsgi; then
        echo "uwsgi failed to build; using gunicorn" >&2
    fi
    "$VENV/bin/pip" install gunicorn
fi
# The memcached client oslo.cache's pymemcache backend needs (older venvs lack it).
"$VENV/bin/python" -c 'import pymemcache' 2>/dev/null || "$VENV/bin/pip" install --quiet pymemcache

rm -rf "$STATE"
mkdir -p "$STATE/fernet-keys" "$STATE/credential-keys" "$STATE/log"
chmod 700 "$STATE/fernet-keys" "$STATE/credential-keys"

cat > "$STATE/keystone.conf" <<CONF
[DEFAULT]
log_dir = $STATE/log
debug = false
use_stderr = false

[database]
connection = sqlite:///$STATE/keystone.db

[token]
provider = fernet
expiration = 3600
caching = $CACHING

[fernet_tokens]
key_repository = $STATE/fernet-keys
max_active_keys = 3

[credential]
key_repository = $STATE/credential-keys

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = $ROUNDS
caching = $CACHING

[cache]
enabled = $CACHING
$CACHE_BACKEND

[catalog]
caching = $CACHING

[resource]
caching = $CACHING

[role]
caching = $CACHING

[assignment]
caching = $CACHING

[revoke]
caching = $CACHING

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
CONF

export OS_KEYSTONE_CONFIG_FILES=$STATE/keystone.conf
KM="$VENV/bin/keystone-manage --config-file $STATE/keystone.conf"
if [ "${KEYSTONE_CACHE:-memcached}" = memcached ]; then
    # keystone-manage reads through the cache too: a memcached for the bootstrap only.
    memcached -u "$(id -un)" -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 16 &
    sleep 0.5
    MEMCACHED_PID=$!
    # Gone before run.sh starts its own on the same port.
    trap 'kill $MEMCACHED_PID 2>/dev/null; wait $MEMCACHED_PID 2>/dev/null || true' EXIT
fi
$KM db_sync
$KM fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
$KM credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
$KM bootstrap \
    --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-username admin \
    --bootstrap-project-name admin \
    --bootstrap-role-name admin \
    --bootstrap-service-name keystone \
    --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "http://127.0.0.1:$PORT/v3" \
    --bootstrap-internal-url "http://127.0.0.1:$PORT/v3" \
    --bootstrap-public-url "http://127.0.0.1:$PORT/v3"

"$VENV/bin/pip" show keystone 2>/dev/null | sed -n 's/^Version: /keystone /p'
echo "${KEYSTONE_CACHE:-memcached}" > "$STATE/cache-mode"
echo "$MEMCACHED_PORT" > "$STATE/memcached-port"
echo "Keystone state in $STATE (password_hash_rounds=$ROUNDS, cache ${KEYSTONE_CACHE:-memcached}); start it with tools/keystone/run.sh"
