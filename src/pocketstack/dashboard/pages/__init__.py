"""Every page of the dashboard, one module per area; :data:`ROUTES` mounts them all
(transfers before storage: ``/volumes/transfers`` is no volume id)."""

from pocketstack.dashboard.pages import (
    admin,
    auth,
    compute,
    floating,
    identity,
    instance_actions,
    instance_ha,
    network,
    objects,
    overview,
    rings,
    storage,
    transfers,
)

MODULES = (auth, overview, compute, floating, instance_actions, transfers, storage, network, objects, identity, admin,
           instance_ha, rings)
ROUTES = [route for module in MODULES for route in module.ROUTES]
