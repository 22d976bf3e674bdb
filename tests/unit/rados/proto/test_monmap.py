"""MonMap decoding, pinned to Ceph's own bytes and to ``monmaptool --print``.

Foreign vectors: every MonMap object of the shared corpus (four releases), the MonMap that
``ceph mon getmap`` returned on a 16.2.15 cluster (shared/docs/fixtures), and the MonMap
inside a live MMonMap (tests/vectors/mon_messages). The oracle is the installed monmaptool.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import DecodeError
from rbdpy.rados.proto.messages.base import decode_message
from rbdpy.rados.proto.messages.mon import MMonMap
from rbdpy.rados.proto.monmap import MonInfo, MonMap, decode_monmap, encode_monmap
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec
from tests.conftest import REPO_ROOT, corpus_dir

FIXTURE = REPO_ROOT.parent / "shared" / "docs" / "fixtures" / "pacific16215_monmap.bin"
SESSION = REPO_ROOT / "tests" / "vectors" / "mon_messages" / "pacific16215_mon_session.json"

MONMAPTOOL = shutil.which("monmaptool")


def corpus_monmaps() -> list[Path]:
    return sorted(corpus_dir().glob("*/objects/MonMap/*"))


def _fmt_addr(a: EntityAddr) -> str:
    # entity_addr_t's operator<<: "-" for TYPE_NONE, else "v1:"/"v2:"/"any:" + ip:port/nonce
    if a.type == AddrType.NONE:
        return "-"
    return str(a)


def _fmt_addrvec(av: EntityAddrvec) -> str:
    # entity_addrvec_t's operator<<: "" when empty, the addr alone when single, else "[a,b]"
    if not av.addrs:
        return ""
    if len(av.addrs) == 1:
        return _fmt_addr(av.addrs[0])
    return "[" + ",".join(_fmt_addr(a) for a in av.addrs) + "]"


def _fmt_utime(t: tuple[int, int]) -> str:
    # utime_t's operator<<: raw "sec.usec" below ten years, else an ISO date (TZ=UTC here)
    sec, nsec = t
    if sec < 60 * 60 * 24 * 365 * 10:
        return f"{sec}.{nsec // 1000:06d}"
    d = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{nsec // 1000:06d}+0000"


_RELEASE_NAMES = {0: "unknown", 14: "nautilus", 15: "octopus", 16: "pacific", 17: "quincy",
                  18: "reef", 19: "squid", 20: "tentacle"}


def expected_print(m: MonMap) -> list[str]:
    """What MonMap::print (monmaptool --print) shows for ``m``."""
    lines = [
        f"epoch {m.epoch}",
        f"fsid {m.fsid_str}",
        f"last_changed {_fmt_utime(m.last_changed)}",
        f"created {_fmt_utime(m.created)}",
        f"min_mon_release {m.min_mon_release} ({_RELEASE_NAMES[m.min_mon_release]})",
        f"election_strategy: {m.strategy}",
    ]
    lines += [f"{i}: {_fmt_addrvec(av)} mon.{name}" for i, (name, av) in enumerate(m.mons())]
    return lines


def monmaptool_print(path: Path) -> list[str]:
    out = subprocess.run([MONMAPTOOL or "monmaptool", "--print", str(path)], check=True,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TZ": "UTC"}).stdout
    # drop the tool's own "monmaptool: monmap file X" chatter (prefixed by argv[0])
    return [ln for ln in out.splitlines() if not ln.split(" ", 1)[0].endswith("monmaptool:")]


# -- corpus ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_monmaps(), ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_corpus_decode_roundtrip(path: Path) -> None:
    data = path.read_bytes()
    m = decode_monmap(data)
    again = decode_monmap(encode_monmap(m))
    assert again == m
    # Byte-exact except where Ceph kept a zeroed AF_UNSPEC sockaddr that we re-encode empty.
    if b"\x1c\x00\x00\x00" + b"\x00" * 28 not in data:
        assert encode_monmap(m) == data


@pytest.mark.skipif(MONMAPTOOL is None, reason="monmaptool not installed")
@pytest.mark.parametrize("path", corpus_monmaps(), ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_corpus_matches_monmaptool(path: Path) -> None:
    assert expected_print(decode_monmap(path.read_bytes())) == monmaptool_print(path)


def test_corpus_present_or_skipped(corpus: Path) -> None:
    """The corpus fixture skips when absent; when present it must hold MonMaps."""
    assert list(corpus.glob("*/objects/MonMap/*"))


def test_corpus_multi_mon_details() -> None:
    paths = [p for p in corpus_monmaps() if p.name == "f122b95288ce97b8c4a277e112a79d00"]
    if not paths:
        pytest.skip("corpus absent")
    m = decode_monmap(paths[0].read_bytes())
    # Rank order comes from the ranks vector, not the sorted mon_info map.
    assert m.ranks == ["empty_addr_zero", "empty_addr_one", "empty_addr_two",
                       "filled_pub_addr"]
    assert sorted(m.mon_info) == sorted(m.ranks)
    filled = m.mon_info["filled_pub_addr"]
    assert filled.priority == 1
    assert filled.public_addrs == EntityAddrvec((EntityAddr(AddrType.MSGR2, 0, "127.0.1.2", 0),))
    assert m.mon_info["empty_addr_one"].public_addrs.addrs[0].nonce == 1
    assert m.mon_info["empty_addr_zero"].public_addrs.addrs == ()
    assert m.last_changed == (123, 456)
    assert m.get_rank("empty_addr_two") == 2
    assert m.get_rank("nope") == -1


# -- local 16.2.15 cluster ---------------------------------------------------------------------


def fixture_bytes() -> bytes:
    if not FIXTURE.is_file():
        pytest.skip(f"fixture {FIXTURE} absent")
    return FIXTURE.read_bytes()


def test_pacific_getmap_fields() -> None:
    data = fixture_bytes()
    m = decode_monmap(data)
    assert encode_monmap(m) == data
    assert m.fsid_str == "ea35f889-f22d-4ad4-a89c-315cd6f8c697"
    assert m.epoch == 1
    assert m.min_mon_release == 16
    assert m.persistent_features == 0xFF
    assert m.optional_features == 0
    assert m.strategy == 1
    assert not m.stretch_mode_enabled
    assert m.mons() == [("a", EntityAddrvec((EntityAddr(AddrType.MSGR2, 0, "127.0.0.1",
                                                         3300),)))]
    assert m.addrvecs()[0].msgr2() == EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 3300)
    # mon_info_t v5 compat 1, as FIELD_GUIDE §8.5 recorded
    assert data[0x4F:0x51] == b"\x05\x01"


@pytest.mark.skipif(MONMAPTOOL is None, reason="monmaptool not installed")
def test_pacific_getmap_matches_monmaptool() -> None:
    fixture_bytes()
    assert expected_print(decode_monmap(FIXTURE.read_bytes())) == monmaptool_print(FIXTURE)


@pytest.mark.skipif(MONMAPTOOL is None, reason="monmaptool not installed")
def test_live_mmonmap_monmap(tmp_path: Path) -> None:
    """The MonMap a 16.2.15 mon pushed in MMonMap (two addrs: v2 and v1)."""
    session = json.loads(SESSION.read_text())
    raw = next(m for m in session["messages"] if m["type"] == 4)
    msg = decode_message(raw["type"], raw["version"], raw["compat"], bytes.fromhex(raw["front"]))
    assert isinstance(msg, MMonMap)
    m = decode_monmap(msg.monmapbl)
    assert m.fsid_str == session["fsid"]
    (name, av), = m.mons()
    assert name == "a"
    assert [a.type for a in av.addrs] == [AddrType.MSGR2, AddrType.LEGACY]
    path = tmp_path / "mm"
    path.write_bytes(bytes(msg.monmapbl))
    assert expected_print(m) == monmaptool_print(path)
    assert encode_monmap(m) == bytes(msg.monmapbl)


# -- forward compatibility and errors ----------------------------------------------------------


def _sample() -> MonMap:
    addrs = EntityAddrvec((EntityAddr(AddrType.MSGR2, 0, "10.0.0.1", 3300),
                           EntityAddr(AddrType.LEGACY, 0, "10.0.0.1", 6789)))
    return MonMap(fsid=bytes(range(16)), epoch=7, last_changed=(1, 2), created=(3, 4),
                  persistent_features=0x3F, mon_info={
                      "b": MonInfo("b", addrs, 0, 0, {"host": "h1"}),
                      "a": MonInfo("a", EntityAddrvec(), 1, 2, {}),
                  }, ranks=["b", "a"], min_mon_release=16, removed_ranks=[3],
                  disallowed_leaders=["a"], stretch_mode_enabled=True,
                  tiebreaker_mon="a", stretch_marked_down_mons=["b"])


def test_roundtrip_all_fields() -> None:
    m = _sample()
    assert decode_monmap(encode_monmap(m)) == m
    assert [n for n, _ in m.mons()] == ["b", "a"]


def test_newer_version_tail_is_skipped() -> None:
    """A v10 map with fields we do not know decodes to the v9 content."""
    m = _sample()
    body = encode_monmap(m)[6:]  # drop v9's envelope header
    extra = b"\x01\x02\x03\x04"
    enc = Encoder()
    with enc.struct(10, 6):
        enc.raw(body + extra)
    assert decode_monmap(enc.getvalue()) == m


def test_newer_mon_info_tail_is_skipped() -> None:
    enc = Encoder()
    with enc.struct(6, 1):
        enc.string("x")
        EntityAddrvec().encode(enc)
        enc.u16(5)
        enc.u16(6)
        enc.u32(0)
        enc.u64(0xDEAD)  # a field from the future
    info = MonInfo.decode(Decoder(enc.getvalue(), "mon_info_t"))
    assert info == MonInfo("x", EntityAddrvec(), 5, 6, {})


def test_pre_pacific_version_rejected() -> None:
    data = bytearray(encode_monmap(_sample()))
    data[0] = 8
    with pytest.raises(DecodeError, match="older than supported"):
        decode_monmap(bytes(data))


def test_incompatible_compat_rejected() -> None:
    data = bytearray(encode_monmap(_sample()))
    data[1] = 7
    with pytest.raises(DecodeError, match="struct_compat 7"):
        decode_monmap(bytes(data))


def test_truncated_rejected_at_every_length() -> None:
    data = encode_monmap(_sample())
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            decode_monmap(data[:n])


def test_trailing_garbage_rejected() -> None:
    with pytest.raises(DecodeError, match="trailing"):
        decode_monmap(encode_monmap(_sample()) + b"\0")


def test_rank_of_unknown_mon_rejected() -> None:
    m = _sample()
    m.ranks = ["b", "zz"]
    with pytest.raises(DecodeError, match="unknown mon"):
        decode_monmap(encode_monmap(m))
