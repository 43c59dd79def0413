#!/bin/sh
# mkfs of the pocketstack tiny image: util-linux's front end, `mkfs [-t TYPE] [OPTIONS] DEVICE`,
# over the makers busybox has: vfat/fat/msdos (mkdosfs) and ext2 (mke2fs).  Other types are
# refused (busybox cannot make ext3/ext4); the default type is ext2, as util-linux's.
type=ext2
if [ "$1" = -t ] || [ "$1" = --type ]; then
    [ $# -ge 2 ] || { echo "usage: mkfs [-t TYPE] [OPTIONS] DEVICE" >&2; exit 1; }
    type=$2
    shift 2
fi
case "$type" in
    vfat|fat|msdos) exec mkdosfs "$@" ;;
    ext2) exec mke2fs "$@" ;;
    *) echo "mkfs: cannot make a $type filesystem in this image (vfat and ext2 only)" >&2; exit 1 ;;
esac
