#!/bin/bash
# Stop what tools/swift/start.sh started (and wait until it is gone, so ports are free).
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}
for f in "$S"/run/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f"); kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; rm -f "$f"
done
exit 0
