#!/usr/bin/env bash
# pocketstack vs. the real Keystone as it is deployed, one after the other (never
# concurrently), with the same benchmark parameters, the same bcrypt cost and catalogs of
# the same size.  Needs tools/keystone/setup.sh to have installed Keystone once (it is
# re-run here per bcrypt cost to rebuild the state).
#
#   tools/keystone/compare.sh                 # bcrypt cost 12 and 4, 30 s per workload
#   ROUNDS="12" DURATION=20 tools/keystone/compare.sh
#
# Keystone: KEYSTONE_WORKERS (default 4) uwsgi processes, every cache on in memcached
# (KEYSTONE_CACHE=memcached; dict or off for the other set-ups, see setup.sh).
# pocketstack: `pocketstack up` with its default API processes (one per core, at most 4;
# PS_API_WORKERS to force), run twice: with its verified-secret cache (the default,
# `verified_secret_ttl` 300 s) and without it (`verified_secret_ttl = 0`: every issue
# pays a full bcrypt, as Keystone does).  Both catalogs are padded to CATALOG_ENDPOINTS
# endpoints (default 111).  Each run prints the 1-minute load average beside its figures.
#
# Server CPU is read from /proc: the pocketstack process with its API worker processes;
# Keystone's uwsgi master with its workers, plus its memcached.
#
# Before/after runs of pocketstack itself, in the same session as Keystone:
#   PS_TREES="before=/path/to/old/src after=$PWD/src"  each tree's src/ is put first on
#                 PYTHONPATH and run under its label (default: this repo's src, label
#                 "pocketstack"); PS_NOSECRETCACHE=0 skips the run without the
#                 verified-secret cache (it changes only `issue`).
#   CLIENT=raw    the benchmark's minimal HTTP/1.1 load client instead of httpx (see
#                 benchmarks/identity.py: a fifth of the client CPU per request)
#   REPEATS=3     the whole sequence (Keystone, then each tree) three times in turn, so
#                 that a change in the machine's load falls on every server alike.
#
# Reports (JSON) and a markdown table per cost go to $OUT (default /tmp/identity-bench);
# with REPEATS > 1 the files of repeat N (from 2) carry the suffix -N.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
PS_BIN=${PS_BIN:-$REPO/.venv/bin/pocketstack}
OUT=${OUT:-/tmp/identity-bench}
ROUNDS=${ROUNDS:-12 4}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-8}
CATALOG_ENDPOINTS=${CATALOG_ENDPOINTS:-111}
WORKLOADS=${WORKLOADS:-issue,validate,projects,catalog}
PS_PORT=${PS_PORT:-18795}
KS_PORT=${KEYSTONE_PORT:-5000}
KS_STATE=${KEYSTONE_STATE:-/tmp/keystone-bench}
PS_DATA=${PS_DATA:-/tmp/bench-cloud}
PS_TREES=${PS_TREES:-pocketstack=$REPO/src}
PS_NOSECRETCACHE=${PS_NOSECRETCACHE:-1}
REPEATS=${REPEATS:-1}
BENCH=("$PY" "$REPO/benchmarks/identity.py" --username admin --password secret --project admin
       --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP" --workloads "$WORKLOADS"
       --catalog-endpoints "$CATALOG_ENDPOINTS" --client "${CLIENT:-httpx}")
mkdir -p "$OUT"
SERVER_PID=

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
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

pocketstack_run() {  # rounds label src [extra env...]
    local r=$1 label=$2 src=$3; shift 3
    echo "== bcrypt cost $r: pocketstack ($label, $src), load $(cut -d' ' -f1 /proc/loadavg)" >&2
    rm -rf "$PS_DATA"; mkdir -p "$PS_DATA"
    env PYTHONPATH="$src${PYTHONPATH:+:$PYTHONPATH}" POCKETSTACK_BCRYPT_ROUNDS="$r" \
        ${PS_API_WORKERS:+POCKETSTACK_API_WORKERS=$PS_API_WORKERS} "$@" \
        "$PS_BIN" --data-dir "$PS_DATA" up --port "$PS_PORT" --admin-password secret \
        --clouds-file "$PS_DATA/clouds.yaml" --metadata-port 0 > "$OUT/$label-r$r$SUFFIX.log" 2>&1 &
    SERVER_PID=$!
    wait_for "http://127.0.0.1:$PS_PORT/identity/v3"
    sleep 2  # the API worker processes start after the primary answers
    "${BENCH[@]}" --auth-url "http://127.0.0.1:$PS_PORT/identity" --label "$label" \
        --server-pid "$SERVER_PID" --output "$OUT/$label-r$r$SUFFIX.json"
    stop_server
}

mode=${KEYSTONE_CACHE:-memcached}
for r in $ROUNDS; do
    KEYSTONE_ROUNDS=$r KEYSTONE_PORT=$KS_PORT KEYSTONE_STATE=$KS_STATE "$REPO/tools/keystone/setup.sh" \
        > "$OUT/keystone-setup-r$r.log" 2>&1
    for n in $(seq "$REPEATS"); do
        SUFFIX=$([ "$n" = 1 ] || echo "-$n")
        echo "== bcrypt cost $r: Keystone (${KEYSTONE_WORKERS:-4} workers, cache $mode), load $(cut -d' ' -f1 /proc/loadavg)" >&2
        KEYSTONE_PORT=$KS_PORT KEYSTONE_STATE=$KS_STATE "$REPO/tools/keystone/run.sh" \
            > "$OUT/keystone-$mode-r$r$SUFFIX.log" 2>&1 &
        SERVER_PID=$!
        wait_for "http://127.0.0.1:$KS_PORT/v3"
        ks_pids=$(cat "$KS_STATE/server.pid")
        [ ! -f "$KS_STATE/memcached.pid" ] || ks_pids="$ks_pids,$(cat "$KS_STATE/memcached.pid")"
        "${BENCH[@]}" --auth-url "http://127.0.0.1:$KS_PORT/v3" --label "keystone-$mode" \
            --server-pid "$ks_pids" --output "$OUT/keystone-$mode-r$r$SUFFIX.json"
        stop_server

        labels=()
        for tree in $PS_TREES; do
            pocketstack_run "$r" "${tree%%=*}" "${tree#*=}"
            labels+=("${tree%%=*}")
        done
        if [ "$PS_NOSECRETCACHE" = 1 ]; then
            last=${PS_TREES##* }
            pocketstack_run "$r" "${last%%=*}-nosecretcache" "${last#*=}" POCKETSTACK_VERIFIED_SECRET_TTL=0
            labels+=("${last%%=*}-nosecretcache")
        fi

        for label in "${labels[@]}"; do
            "$PY" "$REPO/benchmarks/identity.py" --compare "$OUT/$label-r$r$SUFFIX.json" \
                "$OUT/keystone-$mode-r$r$SUFFIX.json" | tee "$OUT/table-$label-r$r$SUFFIX.md"
        done
    done
done
