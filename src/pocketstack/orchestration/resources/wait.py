"""``OS::Heat::WaitConditionHandle`` and ``OS::Heat::WaitCondition``: a stack waits for
signals from outside (a server's boot script) before it goes on.

The handle makes a token of its own (``TOKEN_SIGNAL``, Heat's default transport): sent
as ``X-Auth-Token`` to the handle's ``signal`` URL it signals that handle and is good
for nothing else (:func:`pocketstack.orchestration.manager.handle_token`).  Signals are
kept with the handle's row and shown as its metadata, as Heat keeps them; the wait
condition reads them through the Orchestration API as the user, like every resource
reads the cloud, until ``count`` successes arrived (complete), any failure arrived, or
``timeout`` seconds passed (failed).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import quote

from pocketstack.orchestration import errors
from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import ResourceFailure, ResourceType, Step

HANDLE_TOKEN = "heat-wait-"
SUCCESS, FAILURE = "SUCCESS", "FAILURE"
_KEYS = {"data", "reason", "status", "id"}


def new_token(stack_id: str) -> str:
    """A handle's token: the stack it belongs to (where it is checked) and a secret."""
    return f"{HANDLE_TOKEN}{stack_id}.{secrets.token_hex(20)}"


class WaitConditionHandle(ResourceType):
    type_name = "OS::Heat::WaitConditionHandle"
    description = "Resource for managing instance signals: receives the signals a wait condition waits for."
    properties = {"signal_transport": s.string(
        "How the client will signal the wait condition (TOKEN_SIGNAL: an HTTP POST to the handle's endpoint with "
        "its token).", default="TOKEN_SIGNAL", allowed=("TOKEN_SIGNAL",))}
    attributes = {
        "token": "Token which can be used for signalling the handle.",
        "endpoint": "Endpoint/url which can be used for signalling the handle.",
        "curl_cli": "Convenience attribute, provides curl CLI command prefix, which can be used for signalling "
                    "handle completion or failure. You can signal success by adding --data-binary "
                    "'{\"status\": \"SUCCESS\"}', or signal failure by adding --data-binary "
                    "'{\"status\": \"FAILURE\"}'.",
        "signal": "JSON serialized map that includes the endpoint and token the client must use for signalling "
                  "this handle.",
    }
    # Accepts signals (POST .../resources/<name>/signal).
    signals = True

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        step.data.setdefault("token", new_token(step.stack_id))
        return step.physical_name

    async def delete(self, step: Step, physical_id: str) -> None:
        return None

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        token = step.data["token"]
        rest = f"/stacks/{quote(step.stack_name)}/{step.stack_id}/resources/{quote(step.resource_name)}/signal"
        endpoint = step.cloud.heat_url() + rest
        curl = (f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
                f"-H 'Accept: application/json' {endpoint}")
        return {"token": token, "endpoint": endpoint, "curl_cli": curl,
                "signal": json.dumps({"endpoint": endpoint, "token": token})}

    @staticmethod
    def signal_entry(name: str, body: Any, signals: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """Heat's handling of one signal: missing keys filled in (``id`` the signal's
        number, ``status`` SUCCESS), then nothing but ``data``, ``reason``, ``status``
        (SUCCESS or FAILURE) and ``id`` allowed; ``(id, signal, event reason)``."""
        if body is not None and not isinstance(body, dict):
            raise errors.SignalFailed(kind="ValueError", resource=name, error="Metadata format invalid")
        number = len(signals) + 1
        signal = {"reason": f"Signal {number} received", "data": None, "id": number, "status": SUCCESS,
                  **(body or {})}
        if set(signal) != _KEYS or signal["status"] not in (SUCCESS, FAILURE):
            raise errors.SignalFailed(kind="ValueError", resource=name, error="Metadata format invalid")
        key = signal.pop("id")
        if isinstance(key, (dict, list)):
            raise errors.SignalFailed(kind="ValueError", resource=name, error="Metadata format invalid")
        return str(key), signal, f"Signal: status:{signal['status']} reason:{signal['reason']}"


class WaitCondition(ResourceType):
    type_name = "OS::Heat::WaitCondition"
    description = "Waits for the signals of a wait condition handle: complete once count successes arrived."
    properties = {
        "handle": s.string("A reference to the wait condition handle used to signal this wait condition.",
                           required=True),
        "timeout": s.number("The number of seconds to wait for the correct number of signals to arrive.",
                            required=True),
        "count": s.integer("The number of success signals that must be received before the stack creation "
                           "process continues.", default=1, update_allowed=True),
    }
    attributes = {"data": "JSON string containing data associated with wait condition signals sent to the handle."}

    async def _signals(self, step: Step, props: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The handle's signals, read as the user through the Orchestration API (the
        handle found by its physical id among the stack's resources, once)."""
        base = f"/stacks/{quote(step.stack_name)}/{step.stack_id}/resources"
        name = step.data.get("handle_name")
        if name is None:
            listing = await step.cloud.call("GET", "orchestration", f"{base}?id={quote(props['handle'], safe='')}")
            found = [r for r in listing.get("resources", []) if r.get("resource_type") == WaitConditionHandle.type_name]
            if not found:
                raise ResourceFailure(f"{props['handle']} is not a valid wait condition handle.", "ValueError")
            name = step.data["handle_name"] = found[0]["resource_name"]
        metadata = await step.cloud.call("GET", "orchestration", f"{base}/{quote(name)}/metadata")
        return dict(metadata.get("metadata") or {})

    @staticmethod
    def _check_props(props: dict[str, Any]) -> None:
        if not 1 <= props["timeout"] <= 43200:
            raise ResourceFailure(f"Property error: timeout: {props['timeout']} is out of range (min: 1, max: 43200)",
                                  "StackValidationFailed")
        if props["count"] < 1:
            raise ResourceFailure(f"Property error: count: {props['count']} is out of range (min: 1)",
                                  "StackValidationFailed")

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        self._check_props(props)
        await self._signals(step, props)  # a handle that is not one fails now
        # Wall-clock time, kept with the resource: an engine taking over waits only
        # what is left of the timeout.
        step.data["started"] = time.time()
        return step.physical_name

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        signals = await self._signals(step, props)
        failures = [str(v.get("reason")) for v in signals.values() if v.get("status") != SUCCESS]
        if failures:
            raise ResourceFailure(";".join(failures), "WaitConditionFailure")
        if len(signals) >= props["count"]:
            return True
        if time.time() - float(step.data["started"]) > float(props["timeout"]):
            reasons = [str(v.get("reason")) for v in signals.values()]
            message = f"{len(reasons)} of {props['count']} received" + (f" - {';'.join(reasons)}" if reasons else "")
            raise ResourceFailure(message, "WaitConditionTimeout")
        return False

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        self._check_props(props)
        step.data["started"] = time.time()

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self.create_complete(step, physical_id, props)

    async def delete(self, step: Step, physical_id: str) -> None:
        return None

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        signals = await self._signals(step, props)
        return {"data": json.dumps({key: signal.get("data") for key, signal in signals.items()})}
