#!/usr/bin/env bash
# pocketstack vs. the real Keystone, one after the other (never concurrently), with the
# same benchmark parameters and the same bcrypt cost.  Needs tools/keystone/setup.sh to
# have installed Keystone once (it is re-run here per bcrypt cost to rebuild the state).
#
#   tools/keystone/compare.sh                 # bcrypt cost 12 and 4, 30 s per workload
#   ROUNDS="12" DURATION=20 tools/keystone/compare.sh
#   KEYSTONE_CACHE=1 tools/keystone/compare.sh  # Keystone with its in-process cache on
#
# Reports (JSON) and a markdown table per cost go to $OUT (default /tmp/identity-bench).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
PS_BIN=${PS_BIN:-$REPO/.venv/bin/pocketstack}
OUT=${OUT:-/tmp/identity-bench}
ROUNDS=${ROUNDS:-12 4}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-8}
PS_PORT=${PS_PORT:-18795}
KS_PORT=${KEYSTONE_PORT:-5000}
PS_DATA=${PS_DATA:-/tmp/bench-cloud}
BENCH=("$PY" "$REPO/benchmarks/identity.py" --username admin --password secret --project admin
       --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP")
mkdir -p "$OUT"
SERVER_PID=

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}
trap stop_server EXIT

wait_for() {  # url
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server at $1 did not come up" >&2
    return 1
}

suffix=${KEYSTONE_CACHE:+-cache}
for r in $ROUNDS; do
    echo "== bcrypt cost $r: Keystone$suffix" >&2
    KEYSTONE_ROUNDS=$r KEYSTONE_PORT=$KS_PORT "$REPO/tools/keystone/setup.sh" > "$OUT/keystone-setup-r$r.log" 2>&1
    KEYSTONE_PORT=$KS_PORT "$REPO/tools/keystone/run.sh" > "$OUT/keystone-r$r$suffix.log" 2>&1 &
    SERVER_PID=$!
    wait_for "http://127.0.0.1:$KS_PORT/v3"
    KS_PID=$SERVER_PID  # gunicorn: measure its one worker, not the master
    [ "${KEYSTONE_SERVER:-uwsgi}" = gunicorn ] && KS_PID=$(pgrep -P "$SERVER_PID" | head -1)
    "${BENCH[@]}" --auth-url "http://127.0.0.1:$KS_PORT/v3" --label "keystone$suffix" \
        --server-pid "$KS_PID" --output "$OUT/keystone-r$r$suffix.json"
    stop_server

    echo "== bcrypt cost $r: pocketstack" >&2
    rm -rf "$PS_DATA"; mkdir -p "$PS_DATA"
    POCKETSTACK_BCRYPT_ROUNDS=$r "$PS_BIN" --data-dir "$PS_DATA" up --port "$PS_PORT" --admin-password secret \
        --clouds-file "$PS_DATA/clouds.yaml" > "$OUT/pocketstack-r$r.log" 2>&1 &
    SERVER_PID=$!
    wait_for "http://127.0.0.1:$PS_PORT/identity/v3"
    "${BENCH[@]}" --auth-url "http://127.0.0.1:$PS_PORT/identity" --label pocketstack \
        --server-pid "$SERVER_PID" --output "$OUT/pocketstack-r$r.json"
    stop_server

    "$PY" "$REPO/benchmarks/identity.py" --compare "$OUT/pocketstack-r$r.json" "$OUT/keystone-r$r$suffix.json" \
        | tee "$OUT/table-r$r$suffix.md"
done
