#!/bin/bash
# Regenerates the cls_rbd record vectors in this folder from a live cluster, with the
# installed rbd/rados CLIs only (Debian 12: Ceph 16.2.15).
# Usage: gen.sh /path/to/ceph.conf   (client.admin keyring beside it; pool "rbd" initialised)
set -euo pipefail
export CEPH_CONF=${1:?ceph.conf}
cd "$(dirname "$0")"
P=rbd
for img in vec_child vec_parent vec_trash; do
  rbd snap unprotect "$P/vec_parent@s1" 2>/dev/null || true
  rbd rm --no-progress "$P/$img" 2>/dev/null || true
done
for id in $(rbd trash ls "$P" --format json | python3 -c 'import json,sys;[print(e["id"]) for e in json.load(sys.stdin) if e["name"]=="vec_trash"]'); do
  rbd trash rm --no-progress "$P/$id"
done
rbd create --size 64M "$P/vec_parent"
rbd snap create "$P/vec_parent@s1"
rbd snap protect "$P/vec_parent@s1"
rbd clone "$P/vec_parent@s1" "$P/vec_child"
PID=$(rbd info "$P/vec_parent" --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
CID=$(rbd info "$P/vec_child" --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
SNAP=$(rbd snap ls "$P/vec_parent" --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["id"])')
rados -p "$P" getomapval "rbd_header.$PID" "snapshot_$(printf %016x "$SNAP")" cls_rbd_snap.bin
rados -p "$P" getomapval "rbd_header.$CID" parent cls_rbd_parent.bin
rbd create --size 1M "$P/vec_trash"
TID=$(rbd info "$P/vec_trash" --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
rbd trash mv "$P/vec_trash"
rados -p "$P" getomapval rbd_trash "id_$TID" trash_image_spec.bin
printf 'parent_id=%s child_id=%s snap_id=%s trash_id=%s\n' "$PID" "$CID" "$SNAP" "$TID" > ids.txt
