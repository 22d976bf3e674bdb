"""CRUSH map decode and mapper (work in progress: interface first).

Interface for other modules (stable; implementation follows):

    CrushMap.decode(data: bytes | memoryview) -> CrushMap      # whole CrushWrapper bufferlist
    CrushMap.decode_from(dec: Decoder) -> CrushMap             # consumes the rest of dec (the
                                                               # OSDMap passes a Decoder over
                                                               # the crush blob only)
    decode_crush(data) -> CrushMap                             # alias of CrushMap.decode
    m.do_rule(ruleno, x, result_max, weights, choose_args_index=None) -> list[int]
        weights: sequence of 16.16 reweights indexed by device id (osd_weight); devices past
        the end are out. choose_args_index: None = no choose_args; an int (pool id) is looked
        up with Ceph's fallback to -1 (DEFAULT_CHOOSE_ARGS), then none.
        indep rules leave CRUSH_ITEM_NONE (0x7fffffff) holes; firstn rules never do.
    m.rules: list[CrushRule | None]   (index = rule id; .ruleset .type .min_size .max_size .steps)
    m.find_rule(ruleset, type, size) -> int  (-1 if none; crush_find_rule)
    m.max_devices, m.max_buckets, m.choose_args: dict[int, ...] keyed by pool id (-1 default)
    CRUSH_ITEM_NONE, CRUSH_ITEM_UNDEF
    ceph_str_hash_rjenkins(b: bytes) -> int, ceph_str_hash_linux(b) -> int,
    ceph_str_hash(hash_type, b) -> int, crush_hash32_2(a, b) -> int   (re-exported from hashes)

Mirrors: ceph src/crush/CrushWrapper.cc, src/crush/mapper.c; kernel net/ceph/crush/mapper.c.
"""
