"""``pocketstack ring ...``: a swift-ring-builder work-alike.

Usage (``<builder>`` is a file such as ``object.builder``; the ring is written next to
it as ``object.ring.gz``)::

    ring create <builder> <part_power> <replicas> <min_part_hours>
    ring add <builder> r<region>z<zone>-<ip>:<port>/<device>[_<meta>] <weight> [...]
    ring add <builder> --region 1 --zone 2 --ip 10.0.0.5 --port 6200 --device sdb --weight 100
    ring set_weight <builder> <search> <weight> [<search> <weight> ...]
    ring remove <builder> <search> [...]
    ring rebalance <builder> [--seed N]
    ring show <builder>                  (also: ring <builder>)
    ring dispersion <builder> [--verbose]
    ring search <builder> <search>
    ring set_overload <builder> <overload>[%]
    ring set_min_part_hours <builder> <hours>
    ring set_replicas <builder> <replicas>
    ring pretend_min_part_hours_passed <builder>
    ring validate <builder>
    ring write_ring <builder>

Swift's argument order (``<builder> <command> ...``) is accepted too.  Exit status
follows swift-ring-builder: 0 success, 1 warning (e.g. nothing could be reassigned),
2 error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from pocketstack.object.ring import report
from pocketstack.object.ring.builder import RingBuilder
from pocketstack.object.ring.devices import Device, parse_add_value
from pocketstack.object.ring.errors import RingError

EXIT_SUCCESS, EXIT_WARNING, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() controls the exit status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _load(path: str) -> RingBuilder:
    if not os.path.exists(path):
        raise RingError(f"builder file {path} does not exist; use 'create' first")
    return RingBuilder.load(path)


def _weight(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RingError(f"invalid weight {text!r}") from None


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    if not values or len(values) % 2:
        raise RingError(f"expected pairs of {what}")
    return list(zip(values[::2], values[1::2]))


# ------------------------------------------------------------------ commands


def cmd_create(args: argparse.Namespace) -> int:
    builder = RingBuilder(args.part_power, args.replicas, args.min_part_hours)
    os.makedirs(os.path.dirname(os.path.abspath(args.builder)), exist_ok=True)
    builder.save(args.builder)
    print(f"Created {args.builder}: {builder.parts} partitions, {builder.replicas:g} replicas, "
          f"min_part_hours {builder.min_part_hours}")
    return EXIT_SUCCESS


def cmd_add(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    new: list[dict] = []
    if args.ip or args.device:
        missing = [f for f in ("zone", "ip", "port", "device", "weight")
                   if getattr(args, f) is None]
        if missing:
            raise RingError("missing --" + ", --".join(missing))
        new.append({"region": args.region, "zone": args.zone, "ip": args.ip,
                    "port": args.port, "device": args.device, "weight": args.weight,
                    "meta": args.meta or "", "replication_ip": args.replication_ip or "",
                    "replication_port": args.replication_port or 0})
    if args.spec:
        for value, weight in _pairs(args.spec, "<device> <weight>"):
            fields = parse_add_value(value)
            fields["weight"] = _weight(weight)
            new.append(fields)
    if not new:
        raise RingError("nothing to add: give r<r>z<z>-<ip>:<port>/<dev> <weight> or --ip ...")
    for fields in new:
        dev_id = builder.add_dev(fields)
        dev = builder.devs[dev_id]
        assert dev is not None  # just added
        print(f"Device {dev.label()} with {dev.weight:g} weight got id {dev_id}")
    builder.save(args.builder)
    return EXIT_SUCCESS


def _matching(builder: RingBuilder, search: str) -> list[Device]:
    devs = builder.search_devs(search)
    if not devs:
        raise RingError(f"search value {search!r} matched no devices")
    return devs


def cmd_set_weight(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    for search, weight in _pairs(args.pairs, "<search> <weight>"):
        value = _weight(weight)
        for dev in _matching(builder, search):
            builder.set_dev_weight(dev.id, value)
            print(f"{dev.label()} weight set to {value:g}")
    builder.save(args.builder)
    return EXIT_SUCCESS


def cmd_remove(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    for search in args.search:
        for dev in _matching(builder, search):
            builder.remove_dev(dev.id)
            print(f"{dev.label()} marked for removal and will be removed next rebalance.")
    builder.save(args.builder)
    return EXIT_SUCCESS


def cmd_rebalance(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    had_changes = builder.devs_changed or not builder.ever_rebalanced
    result = builder.rebalance(seed=args.seed)
    builder.validate()
    ring_path = report.ring_path_for(args.builder)
    if not result.changed_parts and not result.removed_devices and not had_changes \
            and os.path.exists(ring_path):
        print("No partitions could be reassigned.")
        print("There is no need to do so at this time (or min_part_hours has not passed)")
        return EXIT_WARNING
    builder.save(args.builder)
    builder.write_ring(ring_path)
    print(report.rebalance_summary(result))
    status = EXIT_SUCCESS
    left = builder.min_part_seconds_left()
    if result.balance > 5 and left > 0:
        print(f"NOTE: Balance of {result.balance:.2f} indicates you should push this ring, "
              f"wait at least {builder.min_part_hours} hours, and rebalance/repush.")
        status = EXIT_WARNING
    if not result.changed_parts and had_changes:
        print("No partitions could be reassigned (min_part_hours has not passed?)")
        status = EXIT_WARNING
    print(f"Wrote {args.builder} and {ring_path}")
    return status


def cmd_show(args: argparse.Namespace) -> int:
    print(report.show(_load(args.builder), args.builder))
    return EXIT_SUCCESS


def cmd_dispersion(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    if not builder.ever_rebalanced:
        raise RingError("the ring has not been rebalanced yet")
    print(report.dispersion(builder, verbose=args.verbose))
    return EXIT_SUCCESS


def cmd_search(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    for dev in _matching(builder, args.search):
        print(f"{dev.label()} weight {dev.weight:g} partitions {dev.parts}")
    return EXIT_SUCCESS


def cmd_set_overload(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    text = args.overload.strip()
    value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    builder.set_overload(value)
    builder.save(args.builder)
    print(f"The overload factor is now {value * 100:.2f}% ({value:.6f})")
    return EXIT_SUCCESS


def cmd_set_min_part_hours(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    builder.set_min_part_hours(args.hours)
    builder.save(args.builder)
    print(f"The minimum number of hours before a partition can be reassigned is now "
          f"{builder.min_part_hours}")
    return EXIT_SUCCESS


def cmd_set_replicas(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    builder.set_replicas(args.replicas)
    builder.save(args.builder)
    print(f"The replica count is now {builder.replicas:f}; rebalance to apply it")
    return EXIT_SUCCESS


def cmd_pretend(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    builder.pretend_min_part_hours_passed()
    builder.save(args.builder)
    print("Every partition may now be reassigned at the next rebalance")
    return EXIT_SUCCESS


def cmd_validate(args: argparse.Namespace) -> int:
    _load(args.builder).validate()
    print("Ring is valid")
    return EXIT_SUCCESS


def cmd_write_ring(args: argparse.Namespace) -> int:
    builder = _load(args.builder)
    ring_path = report.ring_path_for(args.builder)
    builder.write_ring(ring_path)
    print(f"Wrote {ring_path}")
    return EXIT_SUCCESS


# --------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pocketstack ring",
                     description="Build and inspect Swift rings (swift-ring-builder work-alike).")
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_: str
                ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("builder", help="builder file, e.g. object.builder")
        p.set_defaults(func=func)
        return p

    p = command("create", cmd_create, "create a new, empty builder file")
    p.add_argument("part_power", type=int, help="log2 of the number of partitions")
    p.add_argument("replicas", type=float, help="copies of each partition (may be fractional)")
    p.add_argument("min_part_hours", type=float,
                   help="hours before a partition may be moved again")

    p = command("add", cmd_add, "add devices")
    p.add_argument("spec", nargs="*", help="r<region>z<zone>-<ip>:<port>/<device>[_<meta>] <weight>")
    p.add_argument("--region", type=int, default=1)
    p.add_argument("--zone", type=int)
    p.add_argument("--ip")
    p.add_argument("--port", type=int)
    p.add_argument("--device")
    p.add_argument("--weight", type=float)
    p.add_argument("--meta")
    p.add_argument("--replication-ip")
    p.add_argument("--replication-port", type=int)

    p = command("set_weight", cmd_set_weight, "change the weight of matching devices")
    p.add_argument("pairs", nargs="+", metavar="<search> <weight>")

    p = command("remove", cmd_remove, "remove matching devices at the next rebalance")
    p.add_argument("search", nargs="+")

    p = command("rebalance", cmd_rebalance, "reassign partitions and write the ring file")
    p.add_argument("--seed", type=int, default=None, help="random seed (reproducible rings)")

    command("show", cmd_show, "summary and device table")

    p = command("dispersion", cmd_dispersion, "replicas per failure domain")
    p.add_argument("--verbose", "-v", action="store_true", help="include servers and devices")

    p = command("search", cmd_search, "list devices matching a search value")
    p.add_argument("search")

    p = command("set_overload", cmd_set_overload,
                "let tiers take this much more than their weight share for dispersion")
    p.add_argument("overload", help="a fraction (0.1) or a percentage (10%%)")

    p = command("set_min_part_hours", cmd_set_min_part_hours, "change min_part_hours")
    p.add_argument("hours", type=float)

    p = command("set_replicas", cmd_set_replicas, "change the replica count")
    p.add_argument("replicas", type=float)

    command("pretend_min_part_hours_passed", cmd_pretend,
            "allow every partition to move at the next rebalance")
    command("validate", cmd_validate, "check the builder's invariants")
    command("write_ring", cmd_write_ring, "write the .ring.gz from the builder")
    return parser


COMMANDS = ("create", "add", "set_weight", "remove", "rebalance", "show", "dispersion",
            "search", "set_overload", "set_min_part_hours", "set_replicas",
            "pretend_min_part_hours_passed", "validate", "write_ring")


_NO_OPTIONS = ("set_weight", "remove", "search")


def _normalise(argv: list[str]) -> list[str]:
    """Accept ``ring <cmd> ...``, Swift's ``<builder> <cmd> ...`` and ``<builder>``."""
    if len(argv) > 1 and argv[0] == "ring" and argv[1] in COMMANDS:
        argv = argv[1:]
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        if len(argv) == 1:
            argv = ["show", argv[0]]
        elif argv[1] in COMMANDS:
            argv = [argv[1], argv[0], *argv[2:]]
    # Search values such as "-10.0.0.5/sdb" look like options to argparse; these
    # commands take none, so end option parsing right after the command name.
    if argv and argv[0] in _NO_OPTIONS and not {"-h", "--help"} & set(argv):
        argv = [argv[0], "--", *argv[1:]]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ring command; return the exit status."""
    args_list = _normalise(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_ERROR
        return args.func(args)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    except (RingError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
