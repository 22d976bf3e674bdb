#!/bin/bash
# Records cls_rbd / cls_lock call vectors (method, our indata, the OSD's ret and outdata)
# against a live cluster, plus the rbd/rados CLI's view of the same images, into
# tests/vectors/cls_rbd_calls/. Only the installed Ceph tools (Debian 12: Ceph 16.2.15) and
# python3-rados talk to the cluster; rbdpy only encodes the inputs (tools/gen_cls_vectors.py
# "plan", run by the project venv) and never sees the cluster.
#
# Usage: tools/gen_cls_vectors.sh /path/to/ceph.conf
#   Any throwaway cluster whose mon allows pool deletion, e.g.
#   .venv/bin/rbdpy devcluster start --dir /tmp/clsrbd-cl --osds 1
#   It (re)creates the pools "clsvec" and "clsvec_data" and works only inside them.
set -euo pipefail
export CEPH_CONF=${1:?ceph.conf}
export TZ=UTC  # the CLI prints timestamps in local time; the tests read them as UTC
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/tests/vectors/cls_rbd_calls"
VENV_PY="$ROOT/.venv/bin/python"
SYS_PY=/usr/bin/python3
GEN="$ROOT/tools/gen_cls_vectors.py"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
P=clsvec
DP=clsvec_data
for pool in $P $DP; do
  ceph osd pool rm $pool $pool --yes-i-really-really-mean-it 2>/dev/null || true
  ceph osd pool create $pool 8 8 >/dev/null
  rbd pool init $pool
done

jid() { rbd info "$1" --format json | $SYS_PY -c 'import json,sys;print(json.load(sys.stdin)["id"])'; }

# -- the images, snapshots, clones, locks, trash, groups, namespaces, mirroring ------------
rbd create --size 64M "$P/cls_img"
rbd snap create "$P/cls_img@s1"
rbd snap protect "$P/cls_img@s1"
rbd snap create "$P/cls_img@s2"
rbd image-meta set "$P/cls_img" key1 val1
rbd image-meta set "$P/cls_img" conf_rbd_cache false
rbd clone "$P/cls_img@s1" "$P/cls_child1"                               # clone v1 (auto)
rbd clone --rbd-default-clone-format 2 "$P/cls_img@s1" "$P/cls_child2"  # clone v2
rbd create --size 16M --stripe-unit 64K --stripe-count 8 "$P/cls_striped"
rbd create --size 8M --data-pool $DP "$P/cls_dp"
rbd create --size 4M --image-feature layering "$P/cls_lockimg"
rbd lock add "$P/cls_lockimg" cli-cookie
rbd create --size 1M "$P/cls_trash"
TRASH_ID=$(jid "$P/cls_trash")
rbd trash mv "$P/cls_trash"
rbd group create "$P/cls_grp"
rbd group image add "$P/cls_grp" "$P/cls_img"
rbd group snap create "$P/cls_grp@gs1"
rbd namespace create "$P/ns1"
rbd mirror pool enable "$P" image
rbd create --size 4M "$P/cls_mirror"
rbd mirror image enable "$P/cls_mirror" snapshot
rbd create --size 4M "$P/cls_migsrc"
rbd migration prepare "$P/cls_migsrc" "$P/cls_migdst"
rbd create --size 4M --image-feature layering "$P/cls_scratch"
# a self-managed snap id in the pool for snapshot_add on cls_scratch
$SYS_PY "$GEN" alloc-snap "$CEPH_CONF" "$P" > "$WORK/snap.txt"

# -- ids and the CLI's view before the calls ------------------------------------------------
$SYS_PY - "$WORK/ids.json" "$TRASH_ID" "$(cat "$WORK/snap.txt")" <<'EOF'
import json, subprocess, sys
def rbd(*args):
    return json.loads(subprocess.check_output(["rbd", *args, "--format", "json"]))
P = "clsvec"
pools = {p["pool_name"]: p["pool_id"] for p in json.loads(subprocess.check_output(
    ["ceph", "osd", "pool", "ls", "detail", "--format", "json"]))}
ids = {"pool": P, "pool_id": pools[P], "data_pool_id": pools["clsvec_data"], "trash_id": sys.argv[2],
       "scratch_snap_id": int(sys.argv[3])}
for name in ("cls_img", "cls_child1", "cls_child2", "cls_striped", "cls_dp", "cls_lockimg",
             "cls_mirror", "cls_migdst", "cls_scratch"):
    ids[name] = rbd("info", f"{P}/{name}")["id"]
ids["snap_list"] = rbd("snap", "ls", "--all", f"{P}/cls_img")
ids["mirror_snap_list"] = rbd("snap", "ls", "--all", f"{P}/cls_mirror")
ids["cli_locker"] = rbd("lock", "ls", f"{P}/cls_lockimg")[0]["locker"]
# group ids are not shown by the CLI: read them from the group directory/header omaps
keys = subprocess.check_output(["rados", "-p", P, "listomapkeys", "rbd_group_directory"],
                               text=True).split()
ids["group_id"] = next(k[3:] for k in keys if k.startswith("id_"))
keys = subprocess.check_output(["rados", "-p", P, "listomapkeys",
                                f"rbd_group_header.{ids['group_id']}"], text=True).split()
ids["group_snap_id"] = next(k[len("snapshot_"):] for k in keys if k.startswith("snapshot_"))
json.dump(ids, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
# a migration source sits in the trash (source "migration") until the migration commits
MIGSRC_ID=$(rbd trash ls --all "$P" --format json | $SYS_PY -c '
import json, sys
print(next(e["id"] for e in json.load(sys.stdin) if e["name"] == "cls_migsrc"))')
$SYS_PY - "$WORK/ids.json" "$MIGSRC_ID" <<'EOF'
import json, sys
ids = json.load(open(sys.argv[1])); ids["cls_migsrc"] = sys.argv[2]
json.dump(ids, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF

cli_snapshot() {  # $1: output json file
  $SYS_PY - "$1" "$WORK/ids.json" <<'EOF'
import json, subprocess, sys
ids = json.load(open(sys.argv[2]))
def run(*args, js=True):
    out = subprocess.run(list(args), capture_output=True, text=True)
    if out.returncode:
        return {"error": out.returncode, "stderr": out.stderr.strip()}
    try:
        return json.loads(out.stdout) if js else out.stdout
    except ValueError:  # some commands print nothing (or text) when there is nothing
        return out.stdout
P = ids["pool"]
cli = {}
for name in ("cls_img", "cls_child1", "cls_child2", "cls_striped", "cls_dp", "cls_lockimg",
             "cls_mirror", "cls_migdst", "cls_scratch"):
    cli[f"info/{name}"] = run("rbd", "info", f"{P}/{name}", "--format", "json")
for name in ("cls_img", "cls_scratch"):
    cli[f"snap_ls/{name}"] = run("rbd", "snap", "ls", "--all", f"{P}/{name}", "--format", "json")
    cli[f"image_meta/{name}"] = run("rbd", "image-meta", "list", f"{P}/{name}", "--format", "json")
for name in ("cls_lockimg", "cls_scratch"):
    cli[f"lock_ls/{name}"] = run("rbd", "lock", "ls", f"{P}/{name}", "--format", "json")
    hdr = f"rbd_header.{ids[name]}"
    cli[f"rados_lock_list/{name}"] = run("rados", "-p", P, "lock", "list", hdr, "--format", "json")
    cli[f"rados_lock_info/{name}"] = run("rados", "-p", P, "lock", "info", hdr, "rbd_lock",
                                         "--format", "json")
cli["ls"] = run("rbd", "ls", P, "--format", "json")
cli["ls/ns1"] = run("rbd", "ls", f"{P}/ns1", "--format", "json")
cli["trash_ls"] = run("rbd", "trash", "ls", "--all", "--long", P, "--format", "json")
cli["namespace_ls"] = run("rbd", "namespace", "ls", P, "--format", "json")
cli["group_ls"] = run("rbd", "group", "ls", P, "--format", "json")
cli["group_image_ls"] = run("rbd", "group", "image", "ls", f"{P}/cls_grp", "--format", "json")
cli["group_snap_ls"] = run("rbd", "group", "snap", "ls", f"{P}/cls_grp", "--format", "json")
cli["children/cls_img@s1"] = run("rbd", "children", "--all", f"{P}/cls_img@s1", "--format", "json")
cli["mirror_pool_info"] = run("rbd", "mirror", "pool", "info", P, "--format", "json")
cli["mirror_image_status"] = run("rbd", "mirror", "image", "status", f"{P}/cls_mirror",
                                 "--format", "json")
cli["migration_status"] = run("rbd", "status", f"{P}/cls_migdst", "--format", "json")
cli["stat/cls_img"] = run("rbd", "info", f"{P}/cls_img", "--format", "json")
om = subprocess.run(["rados", "-p", P, "get", f"rbd_object_map.{ids['cls_img']}", "-"],
                    capture_output=True)
cli["rados_get/object_map_cls_img"] = om.stdout.hex()
for obj in ("rbdpy_om_test", "rbdpy_copyup_test", "rbdpy_sparse_copyup_test",
            "rbd_id.cls_rbdpy_set_id"):
    r = subprocess.run(["rados", "-p", P, "get", obj, "-"], capture_output=True)
    cli[f"rados_get/{obj}"] = r.stdout.hex() if r.returncode == 0 else None
json.dump(cli, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
}

cli_snapshot "$WORK/cli_before.json"

# -- plan (our encoder) -> run (python3-rados) -> the CLI's view after the writes ----------
# set_id needs its object to exist (librbd sends CREATE(EXCL) + set_id in one op)
rados -p "$P" create rbd_id.cls_rbdpy_set_id
"$VENV_PY" "$GEN" plan "$WORK/ids.json" > "$WORK/plan.json"
$SYS_PY "$GEN" run "$CEPH_CONF" "$WORK/plan.json" > "$WORK/results.json"
cli_snapshot "$WORK/cli_after.json"

$SYS_PY - "$OUT/calls.json" "$WORK" <<'EOF'
import json, os, subprocess, sys
w = sys.argv[2]
load = lambda n: json.load(open(os.path.join(w, n)))
version = subprocess.check_output(["ceph", "--version"], text=True).strip()
doc = {"ceph_version": version, "ids": load("ids.json"), "calls": load("results.json"),
       "cli_before": load("cli_before.json"), "cli_after": load("cli_after.json")}
json.dump(doc, open(sys.argv[1], "w"), indent=1, sort_keys=True)
print(f"wrote {sys.argv[1]}: {len(doc['calls'])} calls")
EOF
