"""The menu: every page a user can reach, by section.  Members never see the admin
section (and its pages answer them 403: :func:`pocketstack.dashboard.web.page`)."""

from __future__ import annotations

PROJECT = [
    ("Project", [("Overview", "/overview"), ("Instances", "/instances"), ("Server groups", "/server-groups"),
                 ("Key pairs", "/keypairs"),
                 ("Volumes", "/volumes"), ("Volume snapshots", "/snapshots"), ("Volume backups", "/backups"),
                 ("Volume transfers", "/volumes/transfers"), ("Images", "/images")]),
    ("Network", [("Networks", "/networks"), ("Routers", "/routers"), ("Floating IPs", "/floating-ips"),
                 ("Security groups", "/security-groups"), ("Topology", "/topology")]),
    ("Object storage", [("Containers", "/containers")]),
    ("Identity", [("Application credentials", "/credentials")]),
]
ADMIN = [
    ("Admin", [("Projects", "/admin/projects"), ("Users", "/admin/users"), ("Groups", "/admin/groups"),
               ("Role assignments", "/admin/roles"), ("Flavors", "/admin/flavors"),
               ("Volume types", "/admin/volume-types"),
               ("Hypervisors", "/admin/hypervisors"), ("Services", "/admin/services"),
               ("Instance HA", "/admin/instance-ha"), ("Object rings", "/admin/rings"),
               ("Object dispersion", "/admin/dispersion")]),
]


def menu(is_admin: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    return PROJECT + (ADMIN if is_admin else [])
