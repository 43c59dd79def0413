"""The Identity service as the cloud runs it."""

from __future__ import annotations

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import keystone_format
from pocketstack.common.service import Service
from pocketstack.identity.api import build_router
from pocketstack.identity.policies import DEFAULTS


class IdentityService(Service):
    name = "identity"
    path = "/identity"
    catalog_type = "identity"
    catalog_name = "keystone"

    def app(self):
        cloud = self.cloud
        cloud.enforcer.register_defaults(DEFAULTS)
        return build_app(ServiceSpec(
            name=self.name, router=build_router(cloud.identity), error_format=keystone_format,
            enforcer=cloud.enforcer, validate_token=cloud.identity.validate_token, service_url=self.url,
            www_authenticate=f'Keystone uri="{self.url}"'))
