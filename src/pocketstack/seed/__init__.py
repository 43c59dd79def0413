"""Seeding: a cloud made to a file's description at start (``pocketstack up --seed``) or
later (``pocketstack seed``).

The file (YAML, format in ``schema.json`` and docs/seeding.md) is read and checked
whole first (:mod:`.document`), then applied entry by entry through the cloud's public
APIs (:mod:`.apply`), idempotently.  Errors name their path in the file.
"""

from pocketstack.seed.context import Report
from pocketstack.seed.document import SeedDocument, load, parse
from pocketstack.seed.errors import Problem, SeedApplyError, SeedError, SeedFileError

__all__ = ["Problem", "Report", "SeedApplyError", "SeedDocument", "SeedError", "SeedFileError", "load", "parse"]
