"""Target resolution of commands addressed to one daemon (rbdpy.rados.tell)."""

from __future__ import annotations

import errno

import pytest

from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.monmap import MonInfo, MonMap
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec
from rbdpy.rados.tell import CommandFailed, mon_address, parse_pgid


def _monmap(*names: str) -> MonMap:
    m = MonMap()
    for port, name in enumerate(names, start=3300):
        addrs = EntityAddrvec((EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", port),
                               EntityAddr(AddrType.LEGACY, 0, "127.0.0.1", port + 100)))
        m.mon_info[name] = MonInfo(name, addrs, 0, 0, {})
        m.ranks.append(name)
    return m


def test_mon_target_by_rank_and_name() -> None:
    m = _monmap("c", "a", "b")
    assert mon_address(m, "0") == ("c", EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 3300))
    assert mon_address(m, "b")[0] == "b"
    assert mon_address(m, "2")[0] == "b"


@pytest.mark.parametrize(("target", "outs"), [("3", "mon rank dne"), ("zz", "mon dne"),
                                               ("-1", "mon dne"), ("1x", "mon dne")])
def test_mon_target_errors(target: str, outs: str) -> None:
    # rados_mon_command_target: only a string of digits is a rank.
    with pytest.raises(CommandFailed) as info:
        mon_address(_monmap("a", "b", "c"), target)
    assert (info.value.errno, info.value.outs) == (errno.ENOENT, outs)


def test_parse_pgid() -> None:
    assert parse_pgid("1.0") == (1, 0)
    assert parse_pgid("12.1f") == (12, 0x1F)
    for bad in ("garbage", "1", "1.", ".0", "1.0.0", "-1.0", "1.g"):
        with pytest.raises(CephError):
            parse_pgid(bad)
