#!/bin/bash
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}
for f in $S/run/*.pid; do kill $(cat $f) 2>/dev/null; rm -f $f; done
