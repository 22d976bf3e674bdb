"""CRUSH map decode and mapper against the installed Ceph (crushtool, libceph-common).

Foreign vectors: tests/vectors/crush/*.bin (made by tools/gen_crush_vectors.sh with
crushtool) with cases.tsv (sha256 of crushtool's --show-mappings output per case), the
shared corpus's CrushWrapper objects of four releases, and the fixtures' Pacific maps.
When crushtool is installed each case is re-run live and compared line by line; when
libceph-common is loadable its exported crush_hash32_* / ceph_str_hash_* functions and its
compiled crush_ln tables are used as oracles.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import random
import shutil
import struct
import subprocess
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from rbdpy.cli.crush import crush_test_main
from rbdpy.cli.crush import main as crush_cli_main
from rbdpy.rados.proto import crush as crush_mod
from rbdpy.rados.proto import hashes
from rbdpy.rados.proto.crush import (
    CRUSH_ITEM_NONE,
    BucketAlg,
    CrushMap,
    CrushRuleStep,
    RuleOp,
    crush_ln,
    decode_crush,
)
from rbdpy.rados.proto.denc import Decoder
from rbdpy.rados.proto.errors import CephError, DecodeError
from tests.conftest import REPO_ROOT, corpus_dir

VECTORS = REPO_ROOT / "tests" / "vectors" / "crush"
FIXTURES = REPO_ROOT.parent / "shared" / "docs" / "fixtures"
CRUSHTOOL = shutil.which("crushtool")
LIBCEPH = Path("/usr/lib/x86_64-linux-gnu/ceph/libceph-common.so.2")


def _read(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def _corpus_maps() -> list[Path]:
    root = corpus_dir()
    return sorted(root.glob("*/objects/CrushWrapper/*")) if root.is_dir() else []


def _fixture_maps() -> list[Path]:
    return sorted(FIXTURES.glob("*crush*.bin")) if FIXTURES.is_dir() else []


def _cases() -> list[tuple[str, int, int, int, int, str, str]]:
    out = []
    for line in (VECTORS / "cases.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        m, rule, nrep, minx, maxx, weights, digest = line.split("\t")
        out.append((m, int(rule), int(nrep), int(minx), int(maxx), weights, digest))
    return out


def _weight_args(weights: str) -> list[str]:
    args: list[str] = []
    if weights != "-":
        for dw in weights.split(","):
            dev, w = dw.split("=")
            args += ["--weight", dev, w]
    return args


def _our_lines(path: Path, rule: int, nrep: int, minx: int, maxx: int,
               extra: list[str]) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = crush_test_main(["--crushmap", str(path), "--rule", str(rule), "--num-rep",
                              str(nrep), "--min-x", str(minx), "--max-x", str(maxx),
                              "--show-mappings", *extra])
    assert rc == 0
    return buf.getvalue()


def _crushtool_lines(path: Path, rule: int, nrep: int, minx: int, maxx: int,
                     extra: list[str]) -> str:
    assert CRUSHTOOL is not None
    return subprocess.run(
        [CRUSHTOOL, "-i", str(path), "--test", "--rule", str(rule), "--num-rep", str(nrep),
         "--min-x", str(minx), "--max-x", str(maxx), "--show-mappings", *extra],
        check=True, capture_output=True, text=True).stdout


def _first_diff(expected: str, got: str) -> str:
    for e, g in zip(expected.splitlines(), got.splitlines(), strict=False):
        if e != g:
            return f"crushtool: {e}\nrbdpy:     {g}"
    return f"line counts differ: {len(expected.splitlines())} vs {len(got.splitlines())}"


# -- hashes ------------------------------------------------------------------------------------


def test_str_hash_rjenkins_vectors() -> None:
    # FIELD_GUIDE §8.5, verified on the local cluster with `ceph osd map`.
    assert hashes.ceph_str_hash_rjenkins(b"foo") == 0x7FC1F406
    assert hashes.ceph_str_hash_rjenkins(b"rbd_data.1011f0810a9a.0000000000000000") == 0x75205041
    assert crush_mod.ceph_str_hash(2, b"foo") == 0x7FC1F406
    assert crush_mod.ceph_str_hash(9, b"foo") == 0xFFFFFFFF


def test_crush_hash_vectors() -> None:
    # Values printed by libceph-common 16.2.15's exported crush_hash32_* (ctypes).
    assert hashes.crush_hash32(1) == 0xD5082851
    assert hashes.crush_hash32_2(1, 1) == 0xC5343F38
    assert hashes.crush_hash32_3(1, 1, 1) == 0x5A2580B1
    assert hashes.crush_hash32_4(1, 1, 1, 1) == 0x23AB46AF
    assert hashes.crush_hash32_5(1, 1, 1, 1, 1) == 0x26FA93D2
    # negative inputs are their two's complement; unknown hash types give 0
    assert hashes.crush_hash32_3(-1, -2, 3) == hashes.crush_hash32_3(0xFFFFFFFF, 0xFFFFFFFE, 3)
    assert hashes.crush_hash32_2(1, 1, hash_type=7) == 0


@pytest.fixture(scope="module")
def libceph() -> ctypes.CDLL:
    if not LIBCEPH.exists():
        pytest.skip("libceph-common not installed")
    return ctypes.CDLL(str(LIBCEPH))


def test_crush_hashes_against_libceph(libceph: ctypes.CDLL) -> None:
    u32 = ctypes.c_uint32
    ours: list[Callable[..., int]] = [hashes.crush_hash32, hashes.crush_hash32_2,
                                      hashes.crush_hash32_3, hashes.crush_hash32_4,
                                      hashes.crush_hash32_5]
    rnd = random.Random(1)
    for n, fn in enumerate(ours, start=1):
        cf = getattr(libceph, "crush_hash32" + ("" if n == 1 else f"_{n}"))
        cf.restype = u32
        cf.argtypes = [ctypes.c_int] + [u32] * n
        for _ in range(2000):
            args = [rnd.getrandbits(32) for _ in range(n)]
            assert cf(0, *args) == fn(*args), (n, args)


def test_lane_hash_matches_libceph(libceph: ctypes.CDLL) -> None:
    # CrushHash3Lanes runs the hash on 64-bit lanes of big integers; every lane must
    # equal libceph's crush_hash32_3, at lane counts from 1 to past a machine word, with
    # the extremes that would expose a borrow or a shift leaking between lanes.
    u32 = ctypes.c_uint32
    cf = libceph.crush_hash32_3
    cf.restype = u32
    cf.argtypes = [ctypes.c_int, u32, u32, u32]
    rnd = random.Random(3)
    edge = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
    for n in (1, 2, 3, 7, 20, 64, 300):
        bs = [rnd.choice(edge) if rnd.random() < 0.3 else rnd.getrandbits(32) - (1 << 31)
              for _ in range(n)]
        lanes = hashes.CrushHash3Lanes(bs)
        for _ in range(40):
            a = rnd.choice(edge) if rnd.random() < 0.3 else rnd.getrandbits(32)
            c = rnd.choice(edge) if rnd.random() < 0.3 else rnd.getrandbits(32)
            assert list(lanes.hash3(a, c)) == [cf(0, a, b & 0xFFFFFFFF, c) for b in bs], (n, a, c)
    # signed inputs are their two's complement, as in crush_hash32_3
    assert list(hashes.CrushHash3Lanes([-2, -3]).hash3(-1, 3)) == [
        hashes.crush_hash32_3(-1, -2, 3), hashes.crush_hash32_3(-1, -3, 3)]


def test_str_hashes_against_libceph(libceph: ctypes.CDLL) -> None:
    rnd = random.Random(2)
    for sym, fn in (("_Z22ceph_str_hash_rjenkinsPKcj", hashes.ceph_str_hash_rjenkins),
                    ("_Z19ceph_str_hash_linuxPKcj", hashes.ceph_str_hash_linux)):
        cf = getattr(libceph, sym)
        cf.restype = ctypes.c_uint32
        cf.argtypes = [ctypes.c_char_p, ctypes.c_uint32]
        for length in range(64):
            for _ in range(10):
                s = bytes(rnd.getrandbits(8) for _ in range(length))
                assert cf(s, length) == fn(s), (sym, s)


def test_ln_tables_equal_libceph_binary() -> None:
    """Every entry of both crush_ln tables equals the table compiled into Ceph."""
    if not LIBCEPH.exists():
        pytest.skip("libceph-common not installed")
    blob = LIBCEPH.read_bytes()
    rh = crush_mod._RH_LH_TBL
    ll = crush_mod._LL_TBL
    assert len(rh) == 258 and len(ll) == 256
    at = blob.find(struct.pack("<3Q", *rh[:3]))
    assert at >= 0 and struct.unpack_from("<258Q", blob, at) == rh
    at = blob.find(struct.pack("<3Q", *ll[:3]))
    assert at >= 0 and struct.unpack_from("<256Q", blob, at) == ll


def test_crush_ln_shape() -> None:
    # crush_ln(u) = 2**44 * log2(u + 1): exact at powers of two, and within a hair elsewhere
    assert crush_ln(0) == 0
    # the table's last LH entry is 0xffff00000000, not 2**48: ln(0x10000) falls 2**28 short
    assert crush_ln(0xFFFF) == (1 << 48) - (1 << 28)
    for k in range(16):
        assert crush_ln((1 << k) - 1) == k << 44
    import math

    for u in range(1, 0x10000, 97):
        assert abs(crush_ln(u) / 2**44 - math.log2(u + 1)) < 1e-4


# -- decoding ----------------------------------------------------------------------------------


ALL_VECTOR_BINS = sorted(p.name for p in VECTORS.glob("*.bin"))


@pytest.mark.parametrize("name", ALL_VECTOR_BINS)
def test_vectors_decode_and_reencode(name: str) -> None:
    data = _read(name)
    m = CrushMap.decode(data)
    assert m.to_bytes() == data  # decode -> encode reproduces crushtool's bytes
    assert decode_crush(memoryview(data)).to_bytes() == data


def _map_id(p: Path) -> str:
    return f"{p.parts[-4][:6]}/{p.name[:8]}" if "objects" in p.parts else p.name


@pytest.mark.parametrize("path", _corpus_maps() + _fixture_maps(), ids=_map_id)
def test_corpus_and_fixtures_decode(path: Path) -> None:
    data = path.read_bytes()
    m = CrushMap.decode(data)
    assert m.to_bytes() == data
    # Squid and later append the MSR tunables; Pacific and Reef maps do not
    release = path.parts[-4] if "objects" in path.parts else "fixture"
    if release.startswith(("19.", "20.")):
        assert m.msr_descents is not None
    elif release.startswith(("16.", "18.")):
        assert m.msr_descents is None


def test_corpus_present_or_skipped(corpus: Path) -> None:
    assert len(_corpus_maps()) >= 40


def test_pacific_fixture_fields() -> None:
    path = FIXTURES / "pacific16215_crush.bin"
    if not path.exists():
        pytest.skip("fixture absent")
    m = CrushMap.decode(path.read_bytes())
    # FIELD_GUIDE §5.3 [verified locally]: the Pacific cluster's tunables
    assert (m.choose_local_tries, m.choose_local_fallback_tries, m.choose_total_tries,
            m.chooseleaf_descend_once, m.chooseleaf_vary_r, m.straw_calc_version,
            m.allowed_bucket_algs, m.chooseleaf_stable) == (0, 0, 50, 1, 1, 1, 54, 1)
    assert m.class_name == {0: "hdd"}
    assert m.rule_name_map == {0: "replicated_rule"}
    assert m.find_rule(0, 1, 3) == 0
    assert m.find_rule(0, 3, 3) == -1


def test_mixed_map_fields() -> None:
    m = CrushMap.decode(_read("mixed.bin"))
    assert m.max_devices == 22  # device 21 is named but in only the "flat" root
    assert m.type_map == {0: "osd", 1: "host", 2: "rack", 3: "root"}
    algs = {m.name_map[b.id]: BucketAlg(b.alg) for b in m.buckets if b is not None}
    assert algs["h_straw"] is BucketAlg.STRAW and algs["h_tree"] is BucketAlg.TREE
    assert algs["h_uniform"] is BucketAlg.UNIFORM and algs["r2"] is BucketAlg.LIST
    h_straw2 = m.get_bucket(-1)
    assert h_straw2 is not None
    assert h_straw2.items == [0, 1, 2, 3]
    assert h_straw2.item_weights == [0x10000, 0x28000, 0, 0xB333]
    empty = m.get_bucket(-6)
    assert empty is not None and empty.size == 0
    r7 = m.rules[7]
    assert r7 is not None and [s.op for s in r7.steps[:4]] == [10, 11, 12, 13]
    assert m.rules[6] is not None and m.rules[6].steps[4].arg1 == -1  # firstn -1
    legacy = CrushMap.decode(_read("mixed_legacy.bin"))
    assert (legacy.choose_local_tries, legacy.choose_local_fallback_tries,
            legacy.choose_total_tries, legacy.chooseleaf_descend_once,
            legacy.chooseleaf_vary_r, legacy.chooseleaf_stable) == (2, 5, 19, 0, 0, 0)


def test_choose_args_fields() -> None:
    m = CrushMap.decode(_read("choose_args_0.bin"))
    assert list(m.choose_args) == [0]
    args = m.choose_args[0]
    assert args[0].weight_set == [[0x10000, 0x40000], [0x30000, 0]]
    assert args[0].ids == [-21, -22]
    assert args[1].weight_set == [] and args[1].ids == [100, 101]
    assert len(args[4].weight_set) == 2
    assert list(CrushMap.decode(_read("choose_args_default.bin")).choose_args) == [-1]
    assert list(CrushMap.decode(_read("choose_args_pool5.bin")).choose_args) == [5]


def test_classes_fields() -> None:
    m = CrushMap.decode(_read("classes.bin"))
    assert sorted(m.class_name.values()) == ["hdd", "ssd"]
    ssd = next(k for k, v in m.class_name.items() if v == "ssd")
    # class_map holds devices and the shadow buckets themselves
    assert {d for d, c in m.class_map.items() if c == ssd and d >= 0} == {0, 3, 6, 9, 12, 15}
    root = next(k for k, v in m.name_map.items() if v == "root")
    shadow = m.class_bucket[root][ssd]
    assert m.name_map[shadow] == "root~ssd"
    rule = m.rules[1]
    assert rule is not None and rule.steps[0].arg1 == shadow


def _truncation_points(n: int) -> list[int]:
    if n <= 1200:
        return list(range(n))
    rnd = random.Random(n)
    return sorted(set(range(64)) | set(rnd.sample(range(n), 600)) | {n - 1})


@pytest.mark.parametrize("name", ["mixed.bin", "classes.bin", "choose_args_0.bin",
                                  "alg_tree.bin", "alg_list.bin", "alg_uniform.bin",
                                  "alg_straw.bin", "big1024.bin"])
def test_truncated_maps_raise_decode_error(name: str) -> None:
    data = _read(name)
    full = CrushMap.decode(data)
    for cut in _truncation_points(len(data)):
        try:
            m = CrushMap.decode(data[:cut])
        except DecodeError as e:
            assert "offset" in str(e) and "CrushWrapper" in str(e)
            continue
        # A cut at an optional-section boundary is an older, valid map.
        assert m.buckets == full.buckets and m.rules == full.rules, cut


def test_corrupted_maps_never_raise_anything_else() -> None:
    rnd = random.Random(3)
    for name in ("mixed.bin", "classes.bin", "choose_args_0.bin", "alg_tree.bin"):
        data = _read(name)
        for _ in range(300):
            buf = bytearray(data)
            for _ in range(rnd.randint(1, 4)):
                buf[rnd.randrange(len(buf))] = rnd.getrandbits(8)
            try:
                CrushMap.decode(bytes(buf))
            except DecodeError:
                pass


def test_decode_errors_name_the_field() -> None:
    data = bytearray(_read("mixed.bin"))
    with pytest.raises(DecodeError, match="bad magic"):
        CrushMap.decode(b"\0\0\0\0" + bytes(data[4:]))
    with pytest.raises(DecodeError, match=r"CrushWrapper.buckets: need \d+ bytes at offset"):
        CrushMap.decode(bytes(data[:200]))
    # a huge max_buckets is refused before anything is allocated
    bad = bytearray(data)
    bad[4:8] = struct.pack("<I", 0x7FFFFFFF)
    with pytest.raises(DecodeError, match="max_buckets"):
        CrushMap.decode(bytes(bad))
    # bucket algorithm 9 does not exist
    bad = bytearray(data)
    bad[16:20] = struct.pack("<I", 9)
    with pytest.raises(DecodeError, match="unsupported bucket algorithm 9"):
        CrushMap.decode(bytes(bad))


def test_decode_from_a_decoder_stops_at_its_end() -> None:
    data = _read("alg_straw2.bin")
    # as the OSDMap hands it over: a Decoder narrowed to the crush blob inside a larger buffer
    buf = b"HEAD" + data + b"TAIL"
    dec = Decoder(buf, "OSDMap", pos=4, end=4 + len(data))
    m = CrushMap.decode_from(dec)
    assert dec.pos == 4 + len(data)
    assert m.to_bytes() == data


# -- mapping against crushtool -----------------------------------------------------------------


CASES = _cases()


@pytest.mark.parametrize(
    "case",
    # the [0, 10000) runs take seconds each in pure Python: `-m "not slow"` skips them
    [pytest.param(c, marks=pytest.mark.slow) if c[4] - c[3] >= 5000 else c for c in CASES],
    ids=[f"{c[0][:-4]}-r{c[1]}-n{c[2]}-x{c[4] + 1}" + ("-w" if c[5] != "-" else "")
         for c in CASES])
def test_mappings_equal_crushtool(case: tuple[str, int, int, int, int, str, str]) -> None:
    name, rule, nrep, minx, maxx, weights, digest = case
    path = VECTORS / name
    extra = _weight_args(weights)
    got = _our_lines(path, rule, nrep, minx, maxx, extra)
    if CRUSHTOOL is not None:
        expected = _crushtool_lines(path, rule, nrep, minx, maxx, extra)
        assert got == expected, _first_diff(expected, got)
        assert hashlib.sha256(expected.encode()).hexdigest() == digest, "stale cases.tsv"
    assert hashlib.sha256(got.encode()).hexdigest() == digest


@pytest.mark.skipif(CRUSHTOOL is None, reason="crushtool not installed")
@pytest.mark.parametrize("path", _corpus_maps() + _fixture_maps(), ids=_map_id)
def test_corpus_mappings_equal_crushtool(path: Path) -> None:
    m = CrushMap.decode(path.read_bytes())
    if not any(m.check_item_present(o) for o in range(m.max_devices)):
        pytest.skip("no devices")
    for ruleno, rule in enumerate(m.rules):
        if rule is None or any(s.op in (14, 15, 16) for s in rule.steps):
            continue  # Squid MSR rules: not mappable by Pacific's crushtool either
        for nrep in (1, 3):
            expected = _crushtool_lines(path, ruleno, nrep, 0, 99, [])
            got = _our_lines(path, ruleno, nrep, 0, 99, [])
            assert got == expected, _first_diff(expected, got)


# -- mapper API --------------------------------------------------------------------------------


def test_choose_args_index_fallback() -> None:
    base = CrushMap.decode(_read("choose_args_0.bin"))
    pool5 = CrushMap.decode(_read("choose_args_pool5.bin"))
    dflt = CrushMap.decode(_read("choose_args_default.bin"))
    w = [0x10000] * 8
    differs = 0
    for x in range(300):
        with_args = base.do_rule(0, x, 3, w, 0)
        no_args = base.do_rule(0, x, 3, w, None)
        assert pool5.do_rule(0, x, 3, w, 5) == with_args  # the pool's own set
        assert pool5.do_rule(0, x, 3, w, 7) == no_args  # no set for pool 7, no default
        assert dflt.do_rule(0, x, 3, w, 7) == with_args  # falls back to -1
        assert dflt.do_rule(0, x, 3, w, None) == no_args
        differs += with_args != no_args
    assert differs > 50


def test_indep_holes_and_firstn_shortfall() -> None:
    m = CrushMap.decode(_read("alg_straw2.bin"))  # 4 hosts
    w = [0x10000] * 16
    ec = m.do_rule(1, 1234, 6, w)
    assert len(ec) == 6 and ec.count(CRUSH_ITEM_NONE) == 2
    rep = m.do_rule(0, 1234, 6, w)
    assert len(rep) == 4 and CRUSH_ITEM_NONE not in rep
    # every OSD out: firstn finds nothing, indep leaves only holes
    assert m.do_rule(0, 1, 3, [0] * 16) == []
    assert m.do_rule(1, 1, 3, [0] * 16) == [CRUSH_ITEM_NONE] * 3
    # a short weight vector marks the missing devices out
    assert all(o < 4 for o in m.do_rule(2, 99, 3, [0x10000] * 4))
    # bad rule numbers map to nothing, as crush_do_rule returns 0
    assert m.do_rule(17, 1, 3, w) == [] and m.do_rule(-1, 1, 3, w) == []


def test_tuple_weights_are_memoised() -> None:
    m = CrushMap.decode(_read("mixed.bin"))
    w = tuple([0x10000] * m.max_devices)
    a = m.do_rule(0, 42, 3, w)
    b = m.do_rule(0, 42, 3, w)
    assert a == b == m.do_rule(0, 42, 3, list(w))
    a.append(99)  # callers own their lists
    assert m.do_rule(0, 42, 3, w) == b


def test_msr_rules_are_refused() -> None:
    # Squid's CHOOSE_MSR (16) and its SET_MSR_* steps (14, 15) cannot be mapped by a
    # Pacific client; refusing beats mapping them as no-ops the way Pacific's mapper would.
    m = CrushMap.decode(_read("alg_straw2.bin"))
    rule = m.rules[0]
    assert rule is not None
    rule.steps[1] = CrushRuleStep(RuleOp.CHOOSE_MSR, 0, 1)
    with pytest.raises(CephError) as ei:
        m.do_rule(0, 1, 3, [0x10000] * 16)
    assert ei.value.errno == errno.EOPNOTSUPP


def test_cli_all_rules_all_sizes_like_crushtool(capsys: pytest.CaptureFixture[str]) -> None:
    path = VECTORS / "alg_uniform.bin"
    assert crush_cli_main(["test", "-i", str(path), "--min-x", "0", "--max-x", "3",
                           "--show-mappings"]) == 0
    got = capsys.readouterr().out
    assert got.startswith("CRUSH rule 0 x 0 [")
    if CRUSHTOOL is not None:
        expected = subprocess.run([CRUSHTOOL, "-i", str(path), "--test", "--min-x", "0",
                                   "--max-x", "3", "--show-mappings"], check=True,
                                  capture_output=True, text=True).stdout
        assert got == expected, _first_diff(expected, got)
    assert crush_cli_main(["frobnicate"]) == 2
