"""Request JSON Schemas of the Compute API, one module per resource family (as Nova's
``nova/api/openstack/compute/schemas``)."""
