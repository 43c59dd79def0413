"""Glance's metadata definitions catalog (metadefs): namespaces of property, object and
tag definitions that UIs (Horizon) use to offer well-known image, flavor and volume
metadata, plus the resource types those namespaces apply to."""
