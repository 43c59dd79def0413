"""Request bodies of ``/os-keypairs``, by the microversion they start at (as Nova's): a
key type may be asked for from 2.2, another user's key pair from 2.10; before, either is
an unknown property (400).  From 2.92 a key pair is imported only (``public_key``
required) and its name may hold ``@`` and ``.``."""

from __future__ import annotations

from typing import Any


def _create(*, name_chars: str = r"_\- a-zA-Z0-9", required: tuple[str, ...] = ("name",),
            **properties: Any) -> dict[str, Any]:
    name = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": rf"^[{name_chars}]+$"}
    keypair = {"type": "object", "required": list(required), "additionalProperties": False,
               "properties": {"name": name, "public_key": {"type": "string"}, **properties}}
    return {"type": "object", "required": ["keypair"], "additionalProperties": False,
            "properties": {"keypair": keypair}}


_TYPE = {"type": "string", "enum": ["ssh", "x509"]}
CREATE = _create()
CREATE_V22 = _create(type=_TYPE)
CREATE_V210 = _create(type=_TYPE, user_id={"type": "string"})
CREATE_V292 = _create(type=_TYPE, user_id={"type": "string"}, name_chars=r"_\-@. a-zA-Z0-9",
                      required=("name", "public_key"))
