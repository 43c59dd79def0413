"""The commands' side of seeding: read the file, run it, print what changed or why not."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from pocketstack.seed import Report, SeedDocument, SeedError, SeedFileError
from pocketstack.seed import load as load_document
from pocketstack.seed.client import ApiFailure

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


class SeedFailed(Exception):
    """The seed was refused (its problems already printed): the server must not start."""


def load(file: str) -> SeedDocument:
    """The checked seed file; its problems are printed and the command exits 2."""
    try:
        return load_document(Path(file))
    except SeedError as error:
        print(f"pocketstack: seed {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def print_schema() -> int:
    """``pocketstack seed --schema``: the format's JSON Schema, for editors and linters."""
    from pocketstack.seed.document import schema

    print(json.dumps(schema(), indent=2))
    return 0


def _print(doc: SeedDocument, report: Report, seconds: float) -> None:
    print(f"  seeded from {doc.source} in {seconds:.2f}s: {report.summary()}", flush=True)
    for line in report.details():
        print(f"    {line}", flush=True)


async def seed_serving(cloud: Cloud, doc: SeedDocument) -> None:
    """``up --seed``: apply ``doc`` once the services run; a failure stops the server."""
    from pocketstack.seed.runner import seed_cloud

    started = time.monotonic()
    try:
        report = await seed_cloud(cloud, doc)
    except (SeedError, ApiFailure) as error:
        print(f"pocketstack: seed {error}\npocketstack: not starting a half-seeded cloud", file=sys.stderr,
              flush=True)
        raise SeedFailed("the seed was refused (above)") from None
    _print(doc, report, time.monotonic() - started)


def seed_running(file: str, cloud_name: str | None, clouds_file: str | None) -> int:
    """``pocketstack seed``: apply the file to a running cloud; 0 when it is seeded, 2
    when the file is wrong (nothing was created), 1 when the cloud refused an entry."""
    from pocketstack.seed.runner import seed_remote

    doc = load(file)
    name = cloud_name or os.environ.get("OS_CLOUD") or "pocketstack"
    started = time.monotonic()
    try:
        report = asyncio.run(seed_remote(doc, name, clouds_file))
    except (SeedError, ApiFailure) as error:
        print(f"pocketstack: seed {error}", file=sys.stderr)
        return 2 if isinstance(error, SeedFileError) else 1
    except httpx.HTTPError as error:
        print(f"pocketstack: seed: cannot reach cloud {name!r}: {error}", file=sys.stderr)
        return 1
    _print(doc, report, time.monotonic() - started)
    return 0
