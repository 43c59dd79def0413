"""Guest images built here: ``pocketstack image build-tiny`` and config drives.

No image can be downloaded on the machines pocketstack is developed and tested on, so
this package builds a small cirros-like one from Debian packages (see docs/guests.md):
:mod:`build` runs the steps, :mod:`debs` fetches and unpacks packages, :mod:`kmod` picks
kernel modules, :mod:`rootfs` and :mod:`cpio` make the initramfs, :mod:`disk` the MBR
disk, :mod:`configdrive` writes OpenStack ``config-2`` drives.  Not a service: nothing
here is mounted in the cloud.
"""
