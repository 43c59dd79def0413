#!/usr/bin/env bash
# Install the real OpenStack Keystone (from PyPI) OUTSIDE the repo, configure
# it like pocketstack's defaults (SQLite, fernet tokens, bcrypt cost 12, no
# cache) and bootstrap an admin user/project. Used only for benchmarks; see
# docs/performance.md.
#
#   tools/keystone/setup.sh            # venv /opt/keystone-venv, state /tmp/keystone-bench
#   KEYSTONE_VENV=... KEYSTONE_STATE=... KEYSTONE_ROUNDS=4 tools/keystone/setup.sh
#   KEYSTONE_CACHE=1 tools/keystone/setup.sh   # NOT the like-for-like setup: turns on
#       Keystone's cache (in-process oslo_cache.dict backend), closer to how Keystone is
#       deployed in production (there with memcached); pocketstack has no cache.
#
# Idempotent: re-running reuses the venv and rebuilds the state dir from scratch.
set -euo pipefail

VENV=${KEYSTONE_VENV:-/opt/keystone-venv}
STATE=${KEYSTONE_STATE:-/tmp/keystone-bench}
PYTHON=${KEYSTONE_PYTHON:-python3.11}
ROUNDS=${KEYSTONE_ROUNDS:-12}
PORT=${KEYSTONE_PORT:-5000}
ADMIN_PASSWORD=${KEYSTONE_ADMIN_PASSWORD:-secret}
# Pin with KEYSTONE_VERSION=27.0.0 etc.; empty means "newest PyPI release for this Python".
VERSION=${KEYSTONE_VERSION:-}
if [ "${KEYSTONE_CACHE:-0}" = 1 ]; then
    CACHING=true
    CACHE_BACKEND="backend = oslo_cache.dict
expiration_time = 600"
else
    CACHING=false
    CACHE_BACKEND=""
fi

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
echo "Keystone state in $STATE (password_hash_rounds=$ROUNDS, caching=$CACHING); start it with tools/keystone/run.sh"
