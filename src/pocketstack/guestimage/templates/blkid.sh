#!/bin/sh
# blkid of the pocketstack tiny image: busybox here has findfs but no blkid.  This answers
# the lookups Tempest and CirrOS users make -- `blkid -L LABEL` and `blkid -U UUID`, with
# `-o device` or not: the device's path -- and nothing else.  Reading a disk's label needs
# root (the device nodes are root's), so the lookup runs through the sudo helper when the
# caller may use it, as util-linux's blkid answers any user from its cache.  Exit status 2:
# no such filesystem, as blkid's.
usage() {
    echo "usage: blkid -L LABEL | -U UUID [-o device] [-c FILE]"
}
token=""
while [ $# -gt 0 ]; do
    case "$1" in
        -L|--label) [ $# -ge 2 ] || { usage >&2; exit 4; }; token="LABEL=$2"; shift ;;
        -U|--uuid) [ $# -ge 2 ] || { usage >&2; exit 4; }; token="UUID=$2"; shift ;;
        -o|--output)
            [ $# -ge 2 ] || { usage >&2; exit 4; }
            [ "$2" = device ] || { echo "blkid: only '-o device' is supported in this image" >&2; exit 4; }
            shift ;;
        -c|--cache-file) [ $# -ge 2 ] || { usage >&2; exit 4; }; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "blkid: only label and UUID lookups are supported in this image" >&2; usage >&2; exit 4 ;;
    esac
    shift
done
[ -n "$token" ] || { usage >&2; exit 4; }
if [ "$(id -u)" != 0 ] && [ -x /usr/lib/tiny/rootexec ]; then
    device=$(/usr/lib/tiny/rootexec /bin/busybox findfs "$token" 2>/dev/null)
else
    device=$(findfs "$token" 2>/dev/null)
fi
[ -n "$device" ] || exit 2
echo "$device"
