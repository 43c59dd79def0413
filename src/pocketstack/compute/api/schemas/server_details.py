"""Per-server metadata and tags."""

from __future__ import annotations

_ITEMS = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
          "additionalProperties": {"type": "string", "maxLength": 255}}
METADATA = {"type": "object", "required": ["metadata"], "properties": {"metadata": _ITEMS},
            "additionalProperties": False}
META = {"type": "object", "required": ["meta"], "properties": {"meta": dict(_ITEMS, minProperties=1,
                                                                             maxProperties=1)},
        "additionalProperties": False}
TAGS = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array",
                                                                         "items": {"type": "string"}}},
        "additionalProperties": False}
