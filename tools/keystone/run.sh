#!/usr/bin/env bash
# Serve the Keystone installed by tools/keystone/setup.sh on 127.0.0.1:5000 as it is
# deployed: KEYSTONE_WORKERS worker processes (default 4) under one master, and — when
# setup.sh configured the memcached cache (its default) — a private memcached on the
# port setup.sh wrote in the state directory, stopped with the server.  In the foreground.
#
#   tools/keystone/run.sh                       # uwsgi, 4 processes x $KEYSTONE_THREADS threads
#   KEYSTONE_WORKERS=1 tools/keystone/run.sh    # one process (the old like-for-like setup)
#   KEYSTONE_SERVER=gunicorn tools/keystone/run.sh
#
# The benchmark's --server-pid takes this script's server pid (in $STATE/server.pid) and
# memcached's ($STATE/memcached.pid): the CPU of the worker processes (the server's
# children) and of memcached is counted too.
set -euo pipefail

VENV=${KEYSTONE_VENV:-/opt/keystone-venv}
STATE=${KEYSTONE_STATE:-/tmp/keystone-bench}
PORT=${KEYSTONE_PORT:-5000}
WORKERS=${KEYSTONE_WORKERS:-4}
THREADS=${KEYSTONE_THREADS:-2}
SERVER=${KEYSTONE_SERVER:-uwsgi}

export OS_KEYSTONE_CONFIG_FILES=$STATE/keystone.conf
[ -f "$OS_KEYSTONE_CONFIG_FILES" ] || { echo "no $OS_KEYSTONE_CONFIG_FILES: run tools/keystone/setup.sh" >&2; exit 1; }

if [ "$SERVER" = uwsgi ] && [ ! -x "$VENV/bin/uwsgi" ]; then
    echo "uwsgi is not installed in $VENV; using gunicorn" >&2
    SERVER=gunicorn
fi

pids=()
# SIGINT stops uwsgi's and gunicorn's masters and memcached; uwsgi workers can linger
# in Keystone's threads, so whatever is left after 5 s is killed with its children.
cleanup() {
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -INT "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "${pids[@]}" 2>/dev/null || return 0; sleep 0.1; done
    for pid in "${pids[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' TERM INT

rm -f "$STATE/memcached.pid"
if [ "$(cat "$STATE/cache-mode" 2>/dev/null || echo off)" = memcached ]; then
    port=$(cat "$STATE/memcached-port")
    memcached -u "$(id -un)" -l 127.0.0.1 -p "$port" -U 0 -m 64 -t 2 &
    pids+=($!)
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "memcached did not start on port $port" >&2; exit 1; }
    echo "${pids[-1]}" > "$STATE/memcached.pid"  # its CPU is Keystone's too (compare.sh counts it)
fi

case "$SERVER" in
uwsgi)
    KEYSTONE_PKG=$("$VENV/bin/python" -c \
        'import importlib.util; print(importlib.util.find_spec("keystone").submodule_search_locations[0])')
    # --http11-socket: the workers speak HTTP/1.1 with keep-alive themselves (no
    # separate HTTP router process).
    "$VENV/bin/uwsgi" \
        --http11-socket "127.0.0.1:$PORT" \
        --wsgi-file "$KEYSTONE_PKG/wsgi/api.py" \
        --master --processes "$WORKERS" --threads "$THREADS" --enable-threads \
        --buffer-size 65535 --listen 128 \
        --disable-logging --die-on-term &
    ;;
gunicorn)
    "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
        --worker-class gthread --threads "$THREADS" --keep-alive 30 \
        --pythonpath "$(dirname "$0")" keystone_app:application &
    ;;
*)
    echo "KEYSTONE_SERVER must be uwsgi or gunicorn" >&2; exit 2 ;;
esac
pids+=($!)
echo "$!" > "$STATE/server.pid"
wait "$!"
