"""Imports every service's tables so that migrations and ``create_all`` see them all."""

from pocketstack.compute import models as compute_models  # noqa: F401
from pocketstack.dashboard import models as dashboard_models  # noqa: F401
from pocketstack.faults import models as faults_models  # noqa: F401
from pocketstack.ha import models as ha_models  # noqa: F401
from pocketstack.identity import models as identity_models  # noqa: F401
from pocketstack.image import models as image_models  # noqa: F401
from pocketstack.network import models as network_models  # noqa: F401
from pocketstack.network import scheduling as network_scheduling  # noqa: F401 (and the agents table)
from pocketstack.orchestration import models as orchestration_models  # noqa: F401
from pocketstack.placement import models as placement_models  # noqa: F401
from pocketstack.volume import models as volume_models  # noqa: F401
