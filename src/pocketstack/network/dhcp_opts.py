"""Per-port DHCP options, Neutron's extra_dhcp_opt extension.

A port's ``extra_dhcp_opts`` is a list of ``{opt_name, opt_value, ip_version}``; the
datapath's dnsmasq serves them to that port only.  Each item must match one of
Neutron's key specs (``EXTRA_DHCP_OPT_KEY_SPECS``), with its messages.  On create and
update alike, items are merged into what the port has by name and IP version: a value
replaces, a null value removes, and an option with nothing to serve (null, or empty
unless the option may be blank) is not stored.
"""

from __future__ import annotations

from typing import Any

from pocketstack.network import converters, errors

NAME_MAX_LENGTH = 64
VALUE_MAX_LENGTH = 255
# Options that may be sent blank: an empty ``router`` tells the client "no default route".
BLANKABLE = ("router", "classless-static-route")
KEYS = {"opt_name", "opt_value", "ip_version"}


def check(options: Any) -> list[dict] | None:
    """Neutron's ``type:list_of_any_key_specs_or_none``: the items normalised (an
    ``ip_version`` given as a string of one converted, 4 when absent), or None."""
    if options is None:
        return None
    if not isinstance(options, list):
        raise errors.InvalidInput(error_message=f"'{options}' is not a list")
    duplicates = [item for i, item in enumerate(options) if item in options[:i]]
    if duplicates:
        raise errors.InvalidInput(error_message="Duplicate items in the list: '"
                                                + ", ".join(str(item) for item in duplicates) + "'")
    return [_option(item) for item in options]


def _option(item: Any) -> dict:
    version = _version(item.get("ip_version", 4)) if isinstance(item, dict) else None
    if version is None or set(item) - KEYS or not {"opt_name", "opt_value"} <= set(item) or not (
            _blank_spec(item) or _plain_spec(item)):
        raise errors.InvalidInput(error_message=f"No valid key specs matched for: {item}")
    return {"opt_name": item["opt_name"], "opt_value": item["opt_value"], "ip_version": version}


def _version(value: Any) -> int | None:
    try:
        version = converters.to_int(value)
    except errors.InvalidInput:
        return None
    return version if version in (4, 6) else None


def _blank_spec(item: dict) -> bool:
    """A blank-able option: any string value up to the length limit, or null."""
    value = item["opt_value"]
    return item["opt_name"] in BLANKABLE and (value is None or
                                              isinstance(value, str) and len(value) <= VALUE_MAX_LENGTH)


def _plain_spec(item: dict) -> bool:
    """Any other option: a one-line name, and a one-line value or null."""
    value = item["opt_value"]
    return _one_line(item["opt_name"], NAME_MAX_LENGTH) and (value is None or _one_line(value, VALUE_MAX_LENGTH))


def _one_line(text: Any, limit: int) -> bool:
    """``type:oneline_not_empty_string``."""
    return isinstance(text, str) and bool(text.strip()) and len(text) <= limit and not any(
        c in text for c in "\r\n")


def merged(current: list[dict], requested: list[dict] | None) -> list[dict]:
    """``current`` with each of ``requested`` (already :func:`check`-ed) applied by
    ``(opt_name, ip_version)``, as Neutron's ``_update_extra_dhcp_opts_on_port``."""
    result = [dict(option) for option in current]
    for option in requested or []:
        key = (option["opt_name"], option["ip_version"])
        existing = next((o for o in result if (o["opt_name"], o["ip_version"]) == key), None)
        if existing is not None and option["opt_value"] is None:
            result.remove(existing)
        elif existing is not None and _worth_storing(option):
            existing["opt_value"] = option["opt_value"]
        elif existing is None and _worth_storing(option):
            result.append(dict(option))
    return result


def _worth_storing(option: dict) -> bool:
    """Neutron's ``_is_valid_opt_value``: a blank-able option with any value but null,
    another with a non-empty one."""
    if option["opt_name"] in BLANKABLE:
        return option["opt_value"] is not None
    return bool(option["opt_value"])
