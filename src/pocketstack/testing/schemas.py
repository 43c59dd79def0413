"""Request bodies of the state API."""

from pocketstack.testing.keeper import NAME

SAVE = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": {"name": {"type": "string", "pattern": NAME.pattern}},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}
