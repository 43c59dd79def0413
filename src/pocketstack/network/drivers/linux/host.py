"""What the Linux datapath needs of the machine: root (it creates network namespaces)
and the tools it runs; checked when the driver is made, so a misconfigured host fails
at start with the Debian packages to install."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base"}


class DatapathUnavailable(RuntimeError):
    """The Linux datapath cannot run here (not root, or a tool is missing)."""


def check_host() -> None:
    if os.geteuid() != 0:
        raise DatapathUnavailable("network_datapath = \"linux\" needs root (it creates network namespaces); "
                                  "run as root or use network_datapath = \"noop\"")
    missing = sorted({pkg for tool, pkg in TOOLS.items()
                      if shutil.which(tool) is None and not Path("/sbin", tool).exists()})
    if missing:
        raise DatapathUnavailable(f"network_datapath = \"linux\" needs the Debian packages {', '.join(missing)}")
