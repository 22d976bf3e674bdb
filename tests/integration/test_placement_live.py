"""Issue "Placement": object → PG → OSDs computed by rbdpy equals the monitor's own answer.

rbdpy takes the OSDMap its MonClient subscribed to and maps 1,000 random object names in two
namespaces (plus the default one) itself; the oracle is the monitor answering ``osd map``
(Ceph's own OSDMap code), asked through a mon command for speed and through the ``ceph`` CLI
for a sample.
"""

from __future__ import annotations

import json
import random
import string
import subprocess

import pytest

from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto.placement import object_locator_to_pg, pg_to_up_acting_osds, raw_pg_to_pg
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster


def random_name(rng: random.Random) -> str:
    n = rng.randint(1, 60)
    return "".join(rng.choice(string.ascii_letters + string.digits + "._-") for _ in range(n))


async def test_object_mappings_equal_the_monitors(cluster: SessionCluster, pool: str) -> None:
    rng = random.Random(1234)
    async with AsyncRados(conffile=str(cluster.conf)) as r:
        await r.wait_for_latest_osdmap()
        osdmap = r.osdmap
        assert osdmap is not None
        pool_id = await r.pool_lookup(pool)
        assert pool_id is not None
        cases = [(ns, random_name(rng)) for ns in ("", "ns-one", "another_ns")
                 for _ in range(334)]
        mismatches = []
        for ns, name in cases:
            raw = object_locator_to_pg(osdmap, pool_id, name, nspace=ns)
            pg = raw_pg_to_pg(osdmap.pools[pool_id], raw)
            m = pg_to_up_acting_osds(osdmap, pg)
            cmd = {"prefix": "osd map", "pool": pool, "object": name, "format": "json"}
            if ns:
                cmd["nspace"] = ns
            ret, out, outs = await r.mon_command(json.dumps(cmd), b"")
            assert ret == 0, outs
            mon = json.loads(out)
            if mon["epoch"] != osdmap.epoch:
                pytest.skip("the osdmap changed during the test")
            ours = (f"{raw.pool}.{raw.seed:x}", str(pg), m.up, m.up_primary, m.acting,
                    m.acting_primary)
            theirs = (mon["raw_pgid"], mon["pgid"], mon["up"], mon["up_primary"],
                      mon["acting"], mon["acting_primary"])
            if ours != theirs:
                mismatches.append((ns, name, ours, theirs))
        assert not mismatches, mismatches[:5]
        assert len(cases) == 1002

        # A sample through the CLI, the way a user would check.
        for ns, name in rng.sample(cases, 5):
            args = ["ceph", "-c", str(cluster.conf), "osd", "map", pool, name]
            if ns:
                args.append(ns)
            cli = json.loads(subprocess.run([*args, "--format", "json"], check=True,
                                            capture_output=True, text=True,
                                            timeout=60).stdout)
            pg = raw_pg_to_pg(osdmap.pools[pool_id],
                              object_locator_to_pg(osdmap, pool_id, name, nspace=ns))
            assert cli["pgid"] == str(pg)
            assert cli["acting"] == pg_to_up_acting_osds(osdmap, pg).acting
