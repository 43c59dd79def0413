"""Every service has the same shape (ARCHITECTURE.md, "One package, one folder per
service"), checked without starting a cloud:

- the skeleton files exist;
- routes are declared (no handler is a closure inside a ``register`` function) and every
  declared or enforced policy rule is registered with a description;
- the service's ``manager`` implements its ``contract.py``, no module reaches into
  another service's folder except through that contract, and only the API package and
  the wiring import the web layer.

Every service has had this shape since issue 12; a new service must have it too.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from pocketstack.cloud import SERVICES, Cloud
from pocketstack.common import config
from pocketstack.common import errors as common_errors

SOURCE = Path(__file__).resolve().parents[2] / "src" / "pocketstack"
SKELETON = ("service.py", "manager.py", "contract.py", "policies.py", "errors.py", "api/__init__.py",
            "api/schemas.py")
# Object storage keeps its data in its own databases on the ring's devices: no SQLAlchemy
# models or Alembic branch.
NO_TABLES = {"object"}
CONTRACT_NAMES = {"identity": "IdentityContract", "compute": "ComputeContract", "network": "NetworkContract",
                  "volume": "VolumeContract", "image": "ImageContract", "object": "ObjectContract",
                  "placement": "PlacementContract", "ha": "InstanceHAContract",
                  "orchestration": "OrchestrationContract"}


ALL = sorted(SERVICES)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    settings = config.load(overrides={"data_dir": tmp_path_factory.mktemp("shape")}, environ={})
    cloud = Cloud(settings)
    yield cloud
    cloud.close()


@pytest.fixture(scope="module")
def apps(cloud):
    return {service.name: service.app() for service in cloud.services}


@pytest.mark.parametrize("service", ALL)
def test_skeleton(service):
    folder = SOURCE / service
    wanted = SKELETON + (() if service in NO_TABLES else ("models.py", "migrations"))
    # A big API may split its schemas into a package (api/schemas/<resource>.py), as Nova's.
    present = {name for name in wanted if (folder / name).exists()} | (
        {"api/schemas.py"} if (folder / "api" / "schemas" / "__init__.py").exists() else set())
    missing = [name for name in wanted if name not in present]
    assert not missing, f"{service} lacks {missing}"


@pytest.mark.parametrize("service", ALL)
def test_routes_are_declared_not_closures(service, apps):
    routes = apps[service].state.router.routes
    assert routes, f"{service} serves no routes"
    closures = sorted({r.name for r in routes if "<locals>" in r.name})
    assert not closures, f"{service}: handlers defined inside functions: {closures[:10]}"


def _enforced_rule_names(service: str) -> set[str]:
    """Rule names enforced by literal in the service's code (``authorize("x")``)."""
    found = set()
    for path in (SOURCE / service).rglob("*.py"):
        found.update(re.findall(r"""\.(?:authorize|allowed)\(\s*f?["']([^"'{]+)["']""", path.read_text()))
    return found


@pytest.mark.parametrize("service", ALL)
def test_every_policy_rule_is_registered_and_documented(service, apps, cloud):
    declared = {r.policy for r in apps[service].state.router.routes if r.policy}
    used = declared | _enforced_rule_names(service)
    documented = cloud.enforcer.documented
    undocumented = sorted(name for name in used if not (name in documented and documented[name].description))
    assert not undocumented, f"{service}: rules without a registered, described default: {undocumented}"


@pytest.mark.parametrize("service", ALL)
def test_manager_implements_the_contract(service, cloud):
    import importlib

    contract = getattr(importlib.import_module(f"pocketstack.{service}.contract"), CONTRACT_NAMES[service])
    manager = cloud.contract(service) if service != "identity" else cloud.identity
    assert manager is not None
    for name, method in inspect.getmembers(contract, inspect.isfunction):
        if name.startswith("_"):
            continue
        implementation = getattr(manager, name, None)
        assert implementation is not None, f"{type(manager).__name__} lacks {name}"
        wanted = [p for p in inspect.signature(method).parameters if p != "self"]
        assert list(inspect.signature(implementation).parameters) == wanted, f"{service}.{name} signature"


def _imported_services(path: Path) -> set[tuple[str, str]]:
    """(service, module) pairs this file imports from pocketstack's service folders."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "pocketstack" and parts[1] in SERVICES:
                found.add((parts[1], ".".join(parts[2:3])))
    return found


# Folders that are no service but run beside them (the metadata API serves guests from
# compute's and network's contracts; seeding acts through the public APIs and Identity's
# contract): they cross into services only through contracts too.
HELPERS = ["metadata", "seed"]


@pytest.mark.parametrize("service", ALL + HELPERS)
def test_other_services_are_reached_only_through_their_contracts(service):
    crossings = set()
    for path in (SOURCE / service).rglob("*.py"):
        for other, module in _imported_services(path):
            if other != service and module != "contract":
                crossings.add(f"{path.relative_to(SOURCE)} -> pocketstack.{other}.{module}")
        text = path.read_text()
        # By name, the contract untyped: ``cloud.service("network")`` or ``cloud.contract("compute")``
        # instead of the typed ``cloud.network``.
        if re.search(r"""\.(?:service|contract)\(\s*["'](?!%s["'])""" % service, text):
            crossings.add(f"{path.relative_to(SOURCE)} reaches another service by name")
    assert not crossings, sorted(crossings)


_GENERIC_ERRORS = {name for name, value in vars(common_errors).items()
                   if isinstance(value, type) and issubclass(value, common_errors.ApiError)}


@pytest.mark.parametrize("service", ALL)
def test_errors_are_named(service):
    """A service raises its named errors (``errors.py``: fields and a message format),
    never a generic one with a message written at the raise (``BadRequest("...")``)."""
    free_text = []
    for path in (SOURCE / service).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                func = node.exc.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in _GENERIC_ERRORS:
                    free_text.append(f"{path.relative_to(SOURCE)}:{node.lineno} {name}")
    assert not free_text, free_text


@pytest.mark.parametrize("service", ALL)
def test_logic_never_imports_the_web_layer(service):
    """Only a service's ``api/`` package and ``service.py`` (the wiring) import
    ``pocketstack.common.api``: the logic raises named errors and takes a context, and
    can be called -- and tested -- without HTTP."""
    offenders = sorted(
        str(path.relative_to(SOURCE)) for path in (SOURCE / service).rglob("*.py")
        if "api" not in path.relative_to(SOURCE / service).parts[:1] and path.name != "service.py"
        and any(module.startswith("pocketstack.common.api") for module in _imported_modules(path)))
    assert not offenders, offenders


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found
