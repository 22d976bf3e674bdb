"""The fsx model itself (no cluster): payload stamps, mismatch diagnosis, op generation."""

from __future__ import annotations

import random
import struct

import pytest

from tests.faults.fsx import (
    GRAIN,
    ImageModel,
    Mismatch,
    Op,
    OpGenerator,
    OpLog,
    check_read,
    explain_word,
    payload,
)


def test_payload_words_name_op_and_offset() -> None:
    data = payload(7, 16, 32)
    assert [struct.unpack_from("<II", data, i) for i in range(0, 32, 8)] == [
        (7, 2), (7, 3), (7, 4), (7, 5)]
    # an unaligned write holds the same bytes as the aligned one at those offsets
    assert payload(7, 19, 10) == payload(7, 16, 32)[3:13]


def test_mismatch_names_seed_op_and_what_was_read() -> None:
    model = ImageModel(4096)
    model.write(0, payload(2, 0, 4096))
    log = OpLog(seed=99)
    op = Op(3, "read", 0, 4096)
    log.add(op)
    stale = bytearray(model.expected(0, 4096))
    stale[1024:1032] = payload(1, 1024, 8)
    with pytest.raises(Mismatch) as info:
        check_read(log, op, bytes(stale), model.expected(0, 4096))
    text = str(info.value)
    assert "seed 99" in text and "#3 read" in text
    assert "first at image offset 0x400: got data of op #1 for its own offset" in text
    assert explain_word(payload(5, 64, 8), 0, 0) == "data of op #5 for offset 0x40 (misplaced)"
    assert explain_word(bytes(8), 0, 3) == "zeros"


def test_generator_is_seeded_and_stays_in_bounds() -> None:
    def ops(seed: int) -> list[Op]:
        model = ImageModel(4 << 20)
        gen = OpGenerator(random.Random(seed), base=1 << 20, span=1 << 20, max_io=1 << 17,
                          global_ops=False)
        return [gen.next(n, model) for n in range(1, 500)]

    assert ops(5) == ops(5) != ops(6)
    for op in ops(5):
        assert op.kind in ("write", "read", "discard")
        assert 1 << 20 <= op.offset and op.offset + op.length <= 2 << 20 and op.length > 0
        if op.kind == "discard":
            assert op.offset % GRAIN == 0 and op.length % GRAIN == 0


def test_model_snapshots_and_rollback() -> None:
    model = ImageModel(GRAIN * 2)
    model.write(0, b"a" * 10)
    model.snap("s1")
    model.resize(GRAIN * 3)
    model.discard(0, GRAIN)
    assert model.expected(0, 10) == bytes(10)
    assert model.expected(0, 10, "s1") == b"a" * 10
    model.rollback("s1")
    assert model.size == GRAIN * 2 and model.expected(0, 10) == b"a" * 10
