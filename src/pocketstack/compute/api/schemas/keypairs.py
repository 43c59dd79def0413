"""Request bodies of ``/os-keypairs``."""

from __future__ import annotations

CREATE = {"type": "object", "required": ["keypair"], "properties": {"keypair": {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                   "public_key": {"type": "string"}, "type": {"type": "string", "enum": ["ssh", "x509"]},
                   "user_id": {"type": "string"}}}}}
