"""The Linux datapath: bridges, DHCP and routers in network namespaces, rules in nftables.

Everything lives in namespaces this driver creates, named ``<prefix>…`` (``ps-`` by
default); it never adds a device, address, route or rule to the namespace it runs in
(a physical interface it was told to take, :mod:`..physnets`, it hands back there)::

    <prefix>host            one bridge br-<net11> per network; every port is a device
                            tap<port11> on its network's bridge (a guest's tap, plugged
                            by the compute driver, or the host end of a veth into a
                            DHCP or router namespace); the security-group tables
                            (nft_rules; an address group is a named set there)
                            filter between bridge ports; QoS bandwidth limits are
                            tc qdiscs on the port devices (tc_qos); a trunk's
                            subport is a VLAN device tap<subport11> of its parent's
                            tap, on its own network's bridge (trunk_vlans)
    <prefix>dhcp-<net>      ns-<port11>: the network's DHCP port, and its dnsmasq; on a
                            network with an IPv4 subnet no router serves, also
                            169.254.169.254 and the metadata proxy (isolated metadata)
    <prefix>router-<id>     qr-<port11> per router interface, qg-<port11> on the external
                            network (gateway and floating addresses), NAT table, routes
                            (IPv4 and IPv6), radvd for the IPv6 subnets with an RA mode

Every event updates the driver's copy of the network state ("this is the state now")
and then reconciles the namespaces with all of it, so applying an event twice, or
out of order with a later full :meth:`~.driver.LinuxDriver.sync`, converges on the same data plane; a device
removed by hand comes back at the next event, a rule at the next change of its chain
(its table, in a router namespace) or the next sync.  The reconcile
removes what it owns but no longer wants: namespaces with the prefix, devices in them,
dnsmasq and radvd processes whose pid files are in its state directory.

With a :class:`~..vxlan.Tunnel` the driver is one host among several: it keeps only the
bridges, DHCP namespaces and routers of what is bound to its host, and joins its VXLAN
networks to the other hosts' (:mod:`..vxlan`).  With :class:`~..physnets.Physnets` (the
opt-in ``network_physical_interface_mappings``) flat and VLAN networks on a mapped
physical network get the interface, or a VLAN subinterface of it, on their bridge
(:mod:`..physnets`).

The package, a module a job: :mod:`.host` (what the machine must have), :mod:`.namespaces`
(the state, names and shared plumbing), :mod:`.bridges` (the host namespace),
:mod:`.dhcp` and :mod:`.routers` (their namespaces), :mod:`.driver` (events, reconcile,
plugging).
"""

from pocketstack.network.drivers.linux.driver import LinuxDriver
from pocketstack.network.drivers.linux.host import TOOLS, DatapathUnavailable, check_host

__all__ = ["TOOLS", "DatapathUnavailable", "LinuxDriver", "check_host"]
