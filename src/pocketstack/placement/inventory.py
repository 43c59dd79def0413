"""Inventory records: defaults, validation and the capacity arithmetic Placement uses."""

from __future__ import annotations

from collections.abc import Mapping

from pocketstack.placement import errors

FIELDS = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
_INT_FIELDS = FIELDS[:-1]


def normalise(resource_class: str, record: Mapping, *, allow_reserved_equal_total: bool = True) -> dict:
    """A complete inventory record with Placement's defaults filled in (max_unit defaults
    to total); 400 on values Placement refuses."""
    if "total" not in record:
        raise errors.InvalidInventory(reason=f"Inventory for {resource_class} requires 'total'.")
    inv = {"total": record["total"], "reserved": record.get("reserved", 0),
           "min_unit": record.get("min_unit", 1), "max_unit": record.get("max_unit", record["total"]),
           "step_size": record.get("step_size", 1),
           "allocation_ratio": record.get("allocation_ratio", 1.0)}
    for key in _INT_FIELDS:
        if isinstance(inv[key], bool) or not isinstance(inv[key], int):
            raise errors.InvalidInventory(reason=f"Inventory field {key} of {resource_class} must be an integer.")
    if isinstance(inv["allocation_ratio"], bool) or not isinstance(inv["allocation_ratio"], (int, float)):
        raise errors.InvalidInventory(
            reason=f"Inventory field allocation_ratio of {resource_class} must be a number.")
    inv["allocation_ratio"] = float(inv["allocation_ratio"])
    if inv["total"] < 1 or inv["min_unit"] < 1 or inv["max_unit"] < 1 or inv["step_size"] < 1 \
            or inv["reserved"] < 0 or inv["allocation_ratio"] <= 0:
        raise errors.InvalidInventory(reason=f"Unable to update inventory for {resource_class}: total, min_unit, "
                                             "max_unit and step_size must be at least 1, reserved at least 0, "
                                             "allocation_ratio above 0.")
    if inv["reserved"] > inv["total"] or (inv["reserved"] == inv["total"] and not allow_reserved_equal_total):
        raise errors.InvalidInventory(reason=f"Unable to update inventory for {resource_class}: reserved "
                                             f"({inv['reserved']}) must not exceed total ({inv['total']}).")
    if inv["min_unit"] > inv["max_unit"]:
        raise errors.InvalidInventory(reason=f"Unable to update inventory for {resource_class}: min_unit "
                                             f"({inv['min_unit']}) must not exceed max_unit ({inv['max_unit']}).")
    return inv


def capacity(inv: Mapping) -> float:
    """How much of a class may be allocated in total: (total - reserved) * ratio."""
    return (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]


def amount_problem(inv: Mapping, amount: int) -> str | None:
    """Why a single allocation of ``amount`` breaks min_unit/max_unit/step_size, or None."""
    if amount < inv["min_unit"]:
        return f"{amount} is less than min_unit {inv['min_unit']}"
    if amount > inv["max_unit"]:
        return f"{amount} is greater than max_unit {inv['max_unit']}"
    if amount % inv["step_size"]:
        return f"{amount} is not a multiple of step_size {inv['step_size']}"
    return None


def fits(inv: Mapping, used: int, amount: int) -> bool:
    """Whether ``amount`` more fits on top of ``used`` (unit rules included)."""
    return amount_problem(inv, amount) is None and used + amount <= capacity(inv)
