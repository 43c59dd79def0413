"""``GET /ring/<kind>`` and ``GET /dispersion``: the cluster as ``swift-ring-builder`` and
``swift-dispersion-report`` show it, for the cloud's admins (``object:ring``,
``object:dispersion``).  Swift keeps these in operator tools run on the proxy's machine;
pocketstack serves them beside ``/info`` so the dashboard can show them with the
admin's token, through the object storage contract (the builders and a sample of
copies; blocking, as every handler of the proxy is run in a worker thread)."""

from __future__ import annotations

from dataclasses import asdict

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.object import errors
from pocketstack.object.contract import ObjectContract
from pocketstack.object.ring import RingError

# Containers and objects a dispersion report looks at unless asked otherwise (Swift's
# default coverage is 1% of the partitions; a sample keeps one request short).
SAMPLE = 100
MAX_SAMPLE = 1000


def sample_of(value: str | None) -> int:
    if value is None:
        return SAMPLE
    try:
        sample = int(value)
    except ValueError:
        raise errors.BadSample(limit=MAX_SAMPLE) from None
    if not 1 <= sample <= MAX_SAMPLE:
        raise errors.BadSample(limit=MAX_SAMPLE)
    return sample


class ClusterApi:
    def __init__(self, contract: ObjectContract):
        self.contract = contract

    @route.get("/ring/{kind}", policy="object:ring")
    def ring(self, req: ApiRequest) -> dict:
        req.authorize()
        kind = req.path_params["kind"]
        try:
            found = self.contract.ring(kind)
        except KeyError:
            raise errors.NoSuchRing(kind=kind) from None
        except RingError as error:
            raise errors.RingUnreadable(kind=kind, reason=str(error)) from None
        return {"ring": {"kind": kind, **asdict(found)}}

    @route.get("/dispersion", policy="object:dispersion")
    def dispersion(self, req: ApiRequest) -> dict:
        req.authorize()
        sample = sample_of(req.query.get("sample"))
        return {"dispersion": {"sample": sample, **self.contract.dispersion(sample).as_dict()}}
