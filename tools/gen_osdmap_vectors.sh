#!/bin/bash
# Regenerate tests/vectors/osdmap/* with the installed Ceph tools (Pacific 16.2.x here).
#
# Offline part (osdmaptool/crushtool only):
#   om12.bin      --createsimple 12 --with-default-pool + a 3-host straw2 crush (crushtool --build)
#   om1024.bin    --createsimple 1024 --pg-bits 1 --with-default-pool + 8 racks x 8 hosts x 16 osds
#   om12_upmap.bin  om12 with crush weight of osd.0 tripled and `--upmap ... --save` items
#   om12_w0.bin   om12 with osd.5's crush weight 0 (--mark-up-in restores it to 1)
# and for each map the oracle outputs:
#   <map>.pgs.txt          osdmaptool MAP --test-map-pgs-dump
#   <map>.pgs_upin.txt     osdmaptool MAP --mark-up-in --test-map-pgs-dump
#   <map>.pgs_out3.txt     osdmaptool MAP --mark-up-in --mark-out 3 --test-map-pgs-dump --pool 1
#   <map>.objects.txt      osdmaptool MAP --test-map-object NAME --pool 1 for a few names
#   <map>.json             osdmaptool MAP --dump json
#
# Live part (needs ceph-mon/ceph-osd; skipped with --offline): a 3-OSD memstore devcluster,
# a replicated pool and an EC pool, then pg-upmap, pg-upmap-items, primary-affinity,
# pg-temp, primary-temp, out/in, reweight, crush reweight, blocklist, pool snaps, flags.
#   live_e<N>.bin          full map of the first captured epoch N and of the last one
#   live_inc_e<N>.bin      every incremental after the first captured epoch (from the mon
#                          store: ceph-kvstore-tool ... get osdmap <N>)
#   live_mid.bin           full map right after the upmap/temp/affinity commands
#   live_final.bin         the last full map; plus the same oracle outputs as above
#   live_down.bin          then osd.2 killed and marked down (EC holes)
#   live_osd_map.jsonl     `ceph osd map POOL OBJ [NS] -f json` at the final epoch
#
# Usage: tools/gen_osdmap_vectors.sh [--offline]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/tests/vectors/osdmap
PY=$ROOT/.venv/bin/python
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/gen-osdmap-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

oracles() {  # $1 = map file (in $OUT), $2 = pool for object tests, $3 = "big" (fewer outputs)
    local m=$1 pool=${2:-1} big=${3:-}
    if [ -z "$big" ]; then
        osdmaptool "$OUT/$m" --test-map-pgs-dump 2>/dev/null > "$OUT/$m.pgs.txt"
        osdmaptool "$OUT/$m" --mark-up-in --mark-out 3 --test-map-pgs-dump --pool "$pool" \
            2>/dev/null > "$OUT/$m.pgs_out3.txt" || true
    fi
    osdmaptool "$OUT/$m" --mark-up-in --test-map-pgs-dump 2>/dev/null > "$OUT/$m.pgs_upin.txt"
    osdmaptool "$OUT/$m" --dump json 2>/dev/null > "$OUT/$m.json"
    : > "$OUT/$m.objects.txt"
    : > "$OUT/$m.objects_upin.txt"
    for o in foo bar rbd_data.1011f0810a9a.0000000000000000 rbd_header.abc x; do
        printf '%s\t' "$o" >> "$OUT/$m.objects.txt"
        osdmaptool "$OUT/$m" --test-map-object "$o" --pool "$pool" 2>/dev/null \
            >> "$OUT/$m.objects.txt"
        printf '%s\t' "$o" >> "$OUT/$m.objects_upin.txt"
        osdmaptool "$OUT/$m" --mark-up-in --test-map-object "$o" --pool "$pool" 2>/dev/null \
            | grep -v '^marking' >> "$OUT/$m.objects_upin.txt"
    done
}

# --- offline maps -------------------------------------------------------------------------
cd "$WORK"
osdmaptool --createsimple 12 om12 --with-default-pool >/dev/null 2>&1
crushtool --build --num_osds 12 host straw2 3 root straw2 0 -o c12.bin
osdmaptool om12 --import-crush c12.bin >/dev/null 2>&1
cp om12 "$OUT/om12.bin"
oracles om12.bin

osdmaptool --createsimple 1024 --pg-bits 0 --pgp-bits 0 om1024 --with-default-pool >/dev/null 2>&1
crushtool --build --num_osds 1024 host straw2 16 rack straw2 8 root straw2 0 -o c1024.bin
osdmaptool om1024 --import-crush c1024.bin >/dev/null 2>&1
cp om1024 "$OUT/om1024.bin"
oracles om1024.bin 1 big

# An unbalanced crush weight, then let osdmaptool's balancer write pg_upmap_items.
# (--mark-up-in with --save persists the up/in state too.)
cp om12 om12u
osdmaptool om12u --mark-up-in --adjust-crush-weight 0:3 --save >/dev/null 2>&1
osdmaptool om12u --upmap upmap.txt --upmap-max 40 --upmap-deviation 1 --save >/dev/null 2>&1
cp om12u "$OUT/om12_upmap.bin"
oracles om12_upmap.bin

# A zero CRUSH weight: osdmaptool --mark-up-in raises it to 1.0 (adjust_item_weightf).
cp om12 om12w0
osdmaptool om12w0 --adjust-crush-weight 5:0 --save >/dev/null 2>&1
cp om12w0 "$OUT/om12_w0.bin"
oracles om12_w0.bin 1 big

[ "${1:-}" = "--offline" ] && exit 0

# --- live cluster ---------------------------------------------------------------------------
CL=/tmp/gen-osdmap-cl
stop_cluster() { "$PY" -c "from rbdpy.devcluster import DevCluster; DevCluster('$CL').stop()" || true; }
trap 'stop_cluster; rm -rf "$WORK"' EXIT
cd "$ROOT"
"$PY" -c "from rbdpy.devcluster import DevCluster; DevCluster('$CL').start(osds=3, osd_memory=512<<20, memstore_bytes=256<<20)"
C="ceph -c $CL/ceph.conf"
$C osd set-require-min-compat-client luminous
$C osd pool create rp 16 16 replicated
$C osd pool set rp size 2 --yes-i-really-mean-it
$C osd erasure-code-profile set ecprof k=2 m=1 crush-failure-domain=osd
$C osd pool create ecp 8 8 erasure ecprof
sleep 3
FIRST=$($C osd getmap -o "$WORK/first" 2>&1 | sed -n 's/.*got osdmap epoch \([0-9]*\).*/\1/p')
cp "$WORK/first" "$OUT/live_e$FIRST.bin"
# Choose upmap targets from the current mapping so the mon keeps them (it drops no-ops).
up_of() { $C pg map "$1" -f json | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["up"])'; }
read -r a b <<<"$(up_of 1.1)"; c=$((3 - a - b))
$C osd pg-upmap-items 1.1 "$a" "$c"
read -r a b <<<"$(up_of 1.2)"; $C osd pg-upmap 1.2 "$b" "$a"
read -r a b c <<<"$(up_of 2.3)"; $C osd pg-upmap 2.3 "$c" "$a" "$b"
read -r a b c <<<"$(up_of 2.4)"; $C osd pg-upmap-items 2.4 "$a" "$b" "$b" "$a"
read -r a b <<<"$(up_of 1.3)"; $C osd pg-temp 1.3 "$b" "$a"
read -r a b <<<"$(up_of 1.4)"; $C osd primary-temp 1.4 "$b"
$C osd primary-affinity osd.0 0.5
$C osd primary-affinity osd.1 0
$C osd getmap -o "$OUT/live_mid.bin"
$C osd reweight 1 0.8
$C osd crush reweight osd.2 0.5
$C osd set noout
$C osd blocklist add 127.0.0.1:0/123 3600
$C osd pool mksnap rp s1
$C osd pool create gone 8 8
$C osd pool delete gone gone --yes-i-really-really-mean-it
$C osd pool rename rp rp2
$C osd out 2
sleep 2
$C osd pg-upmap 1.6 2 1 || true   # target out: ignored at mapping time
$C osd in 2
$C osd unset noout
$C osd rm-pg-upmap 2.3 || true
$C osd down 1
sleep 3
# Object -> pg -> osds as the mon computes it, with and without namespaces and locators.
: > "$OUT/live_osd_map.jsonl"
for o in foo bar rbd_data.1011f0810a9a.0000000000000000; do
    for pool in rp2 ecp; do
        $C osd map "$pool" "$o" -f json >> "$OUT/live_osd_map.jsonl"; echo >> "$OUT/live_osd_map.jsonl"
        $C osd map "$pool" "$o" ns1 -f json >> "$OUT/live_osd_map.jsonl"; echo >> "$OUT/live_osd_map.jsonl"
    done
done
LAST=$($C osd getmap -o "$OUT/live_final.bin" 2>&1 | sed -n 's/.*got osdmap epoch \([0-9]*\).*/\1/p')
# A dead OSD: EC pgs get NONE holes, replicated pgs shrink.
"$PY" -c "from rbdpy.devcluster import DevCluster; DevCluster('$CL').kill('osd.2')"
$C osd down 2
sleep 1
DOWN=$($C osd getmap -o "$OUT/live_down.bin" 2>&1 | sed -n 's/.*got osdmap epoch \([0-9]*\).*/\1/p')
stop_cluster
rm -f "$OUT"/live_inc_e*.bin
for e in $(seq $((FIRST + 1)) "$DOWN"); do
    ceph-kvstore-tool rocksdb "$CL/mon.a/store.db" get osdmap "$e" out "$OUT/live_inc_e$e.bin" \
        >/dev/null
done
oracles live_final.bin 1
oracles live_mid.bin 1
oracles live_down.bin 1
oracles "live_e$FIRST.bin" 1
echo "first=$FIRST mid=$(osdmaptool "$OUT/live_mid.bin" --dump json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["epoch"])') last=$LAST down=$DOWN" > "$OUT/live_epochs.txt"
