"""Networking (Neutron v2.0): networks, subnets, ports, routers, floating IPs, security
groups and quotas, with lock-free IP address management (see ``ipam``)."""
