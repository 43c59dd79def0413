#!/bin/bash
# pocketstack vs. Swift 2.38.3 (tools/swift/setup.sh's SAIO) with benchmarks/object.py,
# the runs alternating within each round (every tree, then Swift) so that a change in
# the machine's load falls on all alike.  Each run's JSON (with the load average at its
# start and end and the servers' CPU per operation from /proc) is one line of
# $OUT/results.jsonl, labelled with the round and the configuration.
#
#   tools/swift/compare.sh                                  # 4 KiB PUT/GET, 3 rounds
#   BENCH="--workloads large,dd --large-mib 64 --large-count 4 --concurrency 1" tools/swift/compare.sh
#   PS_TREES="before=/tmp/before/src after=$PWD/src" tools/swift/compare.sh   # before/after too
#
# pocketstack: one `pocketstack up` per tree (its src/ first on PYTHONPATH), a fresh data
# directory each, background passes off (POCKETSTACK_OBJECT_BACKGROUND_INTERVAL=0), 3
# devices and 3 replicas (the defaults) on the same disk as Swift's.  Swift is set up
# afresh by setup.sh (Swift in $SWIFT_VENV, memcached installed once).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
PS_BIN=${PS_BIN:-$REPO/.venv/bin/pocketstack}
OUT=${OUT:-/tmp/object-bench}
ROUNDS=${ROUNDS:-3}
PS_TREES=${PS_TREES:-pocketstack=$REPO/src}
PS_PORT=${PS_PORT:-18960}
BENCH=${BENCH:---workloads small --small-count 2000}
export SWIFT_SAIO_DIR=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    done
    "$REPO/tools/swift/stop.sh"
}
trap cleanup EXIT

"$REPO/tools/swift/setup.sh" >/dev/null
"$REPO/tools/swift/start.sh"
SWIFT_PIDS=$(cat "$SWIFT_SAIO_DIR"/run/*.pid | paste -sd,)
SWIFT_URL=http://127.0.0.1:$(cat "$SWIFT_SAIO_DIR/proxy-port")/auth/v1.0

declare -A PORT DATA PID
i=0
for spec in $PS_TREES; do
    label=${spec%%=*}; src=${spec#*=}
    PORT[$label]=$((PS_PORT + 2 * i)); DATA[$label]=$OUT/cloud-$label
    rm -rf "${DATA[$label]}"
    PID[$label]=$(PYTHONPATH=$src POCKETSTACK_OBJECT_BACKGROUND_INTERVAL=0 "$PS_BIN" --data-dir "${DATA[$label]}" up \
        --port "${PORT[$label]}" --metadata-port $((PORT[$label] + 1)) --admin-password secret \
        --clouds-file "${DATA[$label]}.clouds.yaml" --wait | tail -1)
    PIDS+=("${PID[$label]}")
    i=$((i + 1))
done

record() {  # label round json
    "$PY" -c 'import json, sys; r = json.loads(sys.argv[3]); r.update(config=sys.argv[1], round=int(sys.argv[2])); print(json.dumps(r))' \
        "$1" "$2" "$3" | tee -a "$OUT/results.jsonl"
}
for round in $(seq "$ROUNDS"); do
    for spec in $PS_TREES; do
        label=${spec%%=*}
        # shellcheck disable=SC2086  # BENCH is a list of arguments
        record "$label" "$round" "$("$PY" "$REPO/benchmarks/object.py" --url "http://127.0.0.1:${PORT[$label]}" \
            --password secret --pids "${PID[$label]}" --data-dir "${DATA[$label]}" $BENCH --json)"
    done
    # shellcheck disable=SC2086
    record swift "$round" "$("$PY" "$REPO/benchmarks/object.py" --tempauth-url "$SWIFT_URL" --password testing \
        --pids "$SWIFT_PIDS" --data-dir "$SWIFT_SAIO_DIR/node" $BENCH --json)"
done
