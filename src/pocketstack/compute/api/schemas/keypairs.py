"""Request bodies of ``/os-keypairs``, by the microversion they start at (as Nova's): a
key type may be asked for from 2.2, another user's key pair from 2.10; before, either is
an unknown property (400)."""

from __future__ import annotations

from typing import Any


def _create(**properties: Any) -> dict[str, Any]:
    keypair = {"type": "object", "required": ["name"], "additionalProperties": False,
               "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                              "public_key": {"type": "string"}, **properties}}
    return {"type": "object", "required": ["keypair"], "additionalProperties": False,
            "properties": {"keypair": keypair}}


_TYPE = {"type": {"type": "string", "enum": ["ssh", "x509"]}}
CREATE = _create()
CREATE_V22 = _create(**_TYPE)
CREATE_V210 = _create(**_TYPE, user_id={"type": "string"})
