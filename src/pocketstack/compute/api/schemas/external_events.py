"""Request body of ``POST /os-server-external-events``, by microversion: 2.51 adds
``volume-extended``, 2.76 ``power-update``, 2.82 ``accelerator-request-bound``."""

from __future__ import annotations

NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]


def _create(names: list[str]) -> dict:
    return {"type": "object", "required": ["events"], "additionalProperties": False, "properties": {"events": {
        "type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "server_uuid"], "additionalProperties": False, "properties": {
                "name": {"type": "string", "enum": names},
                "server_uuid": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
                "tag": {"type": "string", "maxLength": 255}}}}}}


# Before 2.51 ``volume-extended`` passes the schema and is refused per event (400).
CREATE = _create(NAMES + ["volume-extended"])
CREATE_V276 = _create(NAMES + ["volume-extended", "power-update"])
# Cyborg's: no server here waits for an accelerator request, so it is accepted and dropped,
# as Nova drops an event nobody waits for.
CREATE_V282 = _create(NAMES + ["volume-extended", "power-update", "accelerator-request-bound"])
