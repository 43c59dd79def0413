#!/bin/sh
# mdev hook of the pocketstack tiny image: report whole disks attached or detached while
# the guest runs (a volume hot-plug), with the first bytes of an attached disk, on the
# serial console (after a newline: a login prompt may be sitting on the line).  Disks
# present at boot are listed in /run/tiny/disks and reported by /init.
[ -n "$MDEV" ] || exit 0
[ -e "/sys/class/block/$MDEV/partition" ] && exit 0
case "$ACTION" in
    add)
        grep -qx "$MDEV" /run/tiny/disks 2>/dev/null && exit 0
        echo "$MDEV" >> /run/tiny/disks
        size=$(( $(cat "/sys/class/block/$MDEV/size") * 512 ))
        head=$(head -c 64 "/dev/$MDEV" 2>/dev/null | tr -c 'A-Za-z0-9._:/=+-' '.')
        printf '\ntiny-facts: disk-attached name=%s size_bytes=%s head=%s\n' "$MDEV" "$size" "$head" > /dev/console
        ;;
    remove)
        grep -vx "$MDEV" /run/tiny/disks > /run/tiny/disks.new 2>/dev/null
        mv /run/tiny/disks.new /run/tiny/disks
        printf '\ntiny-facts: disk-detached name=%s\n' "$MDEV" > /dev/console
        ;;
esac
exit 0
