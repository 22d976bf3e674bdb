"""``rbdpy crush``: CRUSH research tools that mirror ``crushtool``.

``rbdpy crush test --crushmap FILE --rule R --num-rep N --min-x A --max-x B --show-mappings``
prints exactly the lines ``crushtool -i FILE --test ... --show-mappings`` prints, so a
``diff`` of the two outputs is a test of the mapper. The semantics follow
``CrushTester::test``: every device present in a bucket starts at weight 0x10000 (absent
ones at 0), ``--weight DEV W`` overrides with ``(int)(W * 0x10000)`` clamped to [0, 0x10000],
and the mapper runs with choose_args index 0 (falling back to the default set), as
crushtool does.

Mirrors: ceph src/tools/crushtool.cc, src/crush/CrushTester.cc (test, set_device_weight).
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Sequence

from rbdpy.rados.proto.crush import CrushMap, crush_hash32_2
from rbdpy.rados.proto.errors import CephError


def _device_weight(w: float) -> int:
    """``CrushTester::set_device_weight``: a C float times 0x10000, truncated, clamped."""
    f = struct.unpack("<f", struct.pack("<f", w))[0]  # crushtool keeps it in a float
    v = int(f * 0x10000)
    return max(0, min(0x10000, v))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rbdpy crush test",
                                description="map a range of inputs like crushtool --test")
    p.add_argument("--crushmap", "-i", required=True, help="compiled CRUSH map")
    p.add_argument("--rule", type=int, default=None, help="rule id (default: all)")
    p.add_argument("--num-rep", type=int, default=None,
                   help="result size (default: the rule's min_size..max_size)")
    p.add_argument("--min-rep", type=int, default=None)
    p.add_argument("--max-rep", type=int, default=None)
    p.add_argument("--min-x", type=int, default=None)
    p.add_argument("--max-x", type=int, default=None)
    p.add_argument("--x", type=int, default=None, help="a single input")
    p.add_argument("--pool-id", type=int, default=-1,
                   help="hash x with this pool id first (crush_hash32_2)")
    p.add_argument("--weight", "-w", nargs=2, action="append", default=[],
                   metavar=("DEV", "W"), help="device reweight in [0, 1]")
    p.add_argument("--show-mappings", action="store_true")
    p.add_argument("--show-bad-mappings", action="store_true")
    return p


def crush_test_main(argv: Sequence[str]) -> int:
    """``rbdpy crush test ...``; returns the exit status."""
    args = _parser().parse_args(list(argv))
    try:
        with open(args.crushmap, "rb") as f:
            m = CrushMap.decode(f.read())
    except OSError as e:
        print(f"rbdpy crush: cannot read {args.crushmap}: {e}", file=sys.stderr)
        return 1
    except CephError as e:
        print(f"rbdpy crush: {args.crushmap}: {e}", file=sys.stderr)
        return 1

    overrides = {int(dev): _device_weight(float(w)) for dev, w in args.weight}
    weights = tuple(
        overrides[o] if o in overrides else (0x10000 if m.check_item_present(o) else 0)
        for o in range(m.max_devices))

    min_x, max_x = args.min_x, args.max_x
    if args.x is not None:
        min_x = max_x = args.x
    if min_x is None or max_x is None or min_x < 0 or max_x < 0:
        min_x, max_x = 0, 1023
    min_rep = args.min_rep if args.num_rep is None else args.num_rep
    max_rep = args.max_rep if args.num_rep is None else args.num_rep
    if args.rule is None:
        rules = range(len(m.rules))
    else:
        rules = range(args.rule, args.rule + 1) if args.rule >= 0 else range(len(m.rules))

    out = sys.stdout
    for r in rules:
        if not m.rule_exists(r):
            continue
        rule = m.rules[r]
        assert rule is not None
        minr, maxr = min_rep, max_rep
        if minr is None or maxr is None or minr < 0 or maxr < 0:
            minr, maxr = rule.min_size, rule.max_size
        for nr in range(minr, maxr + 1):
            if sum(weights) == 0:
                continue  # CrushTester skips a rule/size when every device is out
            for x in range(min_x, max_x + 1):
                real_x = x if args.pool_id == -1 else crush_hash32_2(x, args.pool_id)
                res = m.do_rule(r, real_x, nr, weights, 0)
                if args.show_mappings:
                    out.write(f"CRUSH rule {r} x {x} [{','.join(map(str, res))}]\n")
                if args.show_bad_mappings and (len(res) != nr or 0x7FFFFFFF in res):
                    out.write(f"bad mapping rule {r} x {x} num_rep {nr} result "
                              f"[{','.join(map(str, res))}]\n")
    out.flush()
    return 0


def main(argv: Sequence[str]) -> int:
    """Entry point for ``rbdpy crush <tool> ...`` (wired in by ``rbdpy.cli.main``)."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: rbdpy crush test --crushmap FILE [--rule R] [--num-rep N] "
              "[--min-x A] [--max-x B] [--weight DEV W]... --show-mappings")
        return 0 if argv else 2
    if argv[0] == "test":
        return crush_test_main(argv[1:])
    print(f"rbdpy crush: unknown tool {argv[0]!r} (known: test)", file=sys.stderr)
    return 2
