"""The JSON bodies Swift takes, as JSON Schemas.

Swift's request bodies are object data, tar archives (``?extract-archive``) and
newline-separated paths (``?bulk-delete``); the one JSON body is a Static Large
Object's manifest (``PUT ...?multipart-manifest=put``).  No route declares it: it is
the body of an object PUT only with that query, and Swift answers a bad manifest with
its own wording (``large.build_manifest`` checks it with these schemas).  Only what
Swift refuses as malformed is constrained; a segment's ``etag``, ``size_bytes`` and
``range`` are compared with the segment itself, their mismatches reported one a line.
"""

from __future__ import annotations

# The manifest: a non-empty list of segments, in the order their bytes are served.
slo_manifest = {"type": "array", "minItems": 1}

slo_segment = {
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {"type": "string", "description": "/<container>/<object> of the segment (URL-encoded)."},
        "etag": {"description": "The segment's ETag, if the client wants it checked (null: not checked)."},
        "size_bytes": {"description": "The segment's size, if the client wants it checked (null: not checked)."},
        "range": {"description": "'<first>-<last>': only these bytes of the segment are part of the object."},
    },
}
