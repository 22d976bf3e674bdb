#!/bin/sh
# Regenerate tests/vectors/crush/: CRUSH maps built and compiled by the installed crushtool,
# and cases.tsv, one line per `crushtool --test --show-mappings` run with the sha256 of the
# lines crushtool printed. tests/unit/rados/proto/test_crush.py re-runs crushtool for each
# case when it is installed (and checks the hash), else compares against the hash alone.
#
# Usage: tools/gen_crush_vectors.sh            (from the repository root)
# Needs: crushtool (Debian package ceph-base; tested with 16.2.15), sha256sum, sed.
set -eu

OUT=tests/vectors/crush
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
command -v crushtool >/dev/null || { echo "crushtool not found (apt install ceph-base)" >&2; exit 1; }

# Rules appended to every --build map (whose rule 0 is "chooseleaf firstn 0 type host").
cat > "$TMP/extra_rules.txt" <<'EOF'
rule ec_host {
	id 1
	type erasure
	min_size 1
	max_size 20
	step set_chooseleaf_tries 5
	step set_choose_tries 100
	step take root
	step chooseleaf indep 0 type host
	step emit
}
rule choose_osd_firstn {
	id 2
	type replicated
	min_size 1
	max_size 10
	step take root
	step choose firstn 0 type osd
	step emit
}
rule choose_osd_indep {
	id 3
	type erasure
	min_size 1
	max_size 20
	step take root
	step choose indep 0 type osd
	step emit
}
rule host_then_osd_indep {
	id 4
	type erasure
	min_size 1
	max_size 20
	step take root
	step choose indep 2 type host
	step choose indep 2 type osd
	step emit
}
rule host_then_osd_firstn {
	id 5
	type replicated
	min_size 1
	max_size 10
	step take root
	step choose firstn 3 type host
	step chooseleaf firstn 2 type osd
	step emit
}
# end crush map
EOF

# build NAME ARGS...: crushtool --build, decompile, append the extra rules, recompile.
build() {
	name=$1; shift
	crushtool --build "$@" -o "$TMP/$name.built" >/dev/null
	crushtool -d "$TMP/$name.built" -o "$TMP/$name.txt"
	sed -e '/^# end crush map/d' "$TMP/$name.txt" > "$TMP/$name.src"
	cat "$TMP/extra_rules.txt" >> "$TMP/$name.src"
	crushtool -c "$TMP/$name.src" -o "$OUT/$name.bin"
}

# 1. one map per bucket algorithm: 4 hosts x 4 OSDs.
for alg in uniform list tree straw straw2; do
	build "alg_$alg" --num_osds 16 host "$alg" 4 root "$alg" 0
done

# 2. a hand-written map mixing every algorithm, odd weights, an empty host, a device in no
#    bucket, a second root, multi-take rules and rule-level tunable overrides (mixed.txt).
crushtool -c "$OUT/mixed.txt" -o "$OUT/mixed.bin"

# 3. the same map under older tunable profiles.
crushtool -i "$OUT/mixed.bin" --set-choose-local-tries 2 --set-choose-local-fallback-tries 5 \
	--set-choose-total-tries 19 --set-chooseleaf-descend-once 0 --set-chooseleaf-vary-r 0 \
	--set-chooseleaf-stable 0 -o "$OUT/mixed_legacy.bin"
crushtool -i "$OUT/mixed.bin" --set-choose-local-tries 0 --set-choose-local-fallback-tries 0 \
	--set-chooseleaf-descend-once 1 --set-chooseleaf-vary-r 0 --set-chooseleaf-stable 0 \
	-o "$OUT/mixed_bobtail.bin"
crushtool -i "$OUT/mixed.bin" --set-chooseleaf-vary-r 1 --set-chooseleaf-stable 0 \
	-o "$OUT/mixed_firefly.bin"

# 4. device classes: every third OSD is an ssd; class rules take the shadow trees.
crushtool --build --num_osds 18 host straw2 3 rack straw2 2 root straw2 0 -o "$TMP/cls.built" >/dev/null
crushtool -d "$TMP/cls.built" -o "$TMP/cls.txt"
sed -e 's/^device \([0-9]*\) osd\.\([0-9]*\)$/device \1 osd.\2 class hdd/' \
    -e 's/^\(device \(0\|3\|6\|9\|12\|15\) osd\.[0-9]*\) class hdd$/\1 class ssd/' \
    -e '/^# end crush map/d' "$TMP/cls.txt" > "$TMP/cls.src"
cat >> "$TMP/cls.src" <<'EOF'
rule ssd_rule {
	id 1
	type replicated
	min_size 1
	max_size 10
	step take root class ssd
	step chooseleaf firstn 0 type host
	step emit
}
rule hdd_ec {
	id 2
	type erasure
	min_size 1
	max_size 10
	step set_chooseleaf_tries 5
	step take root class hdd
	step chooseleaf indep 0 type rack
	step emit
}
rule hdd_rack0 {
	id 3
	type replicated
	min_size 1
	max_size 10
	step take rack0 class hdd
	step choose firstn 0 type osd
	step emit
}
EOF
crushtool -c "$TMP/cls.src" -o "$OUT/classes.bin"

# 5. choose_args (weight sets per position + substituted ids): as set 0 (what crushtool
#    --test uses), as the default set (-1), and as pool 5's set (then unused by --test).
crushtool --build --num_osds 8 host straw2 2 root straw2 0 -o "$TMP/ca.built" >/dev/null
crushtool -d "$TMP/ca.built" -o "$TMP/ca.txt"
cat >> "$TMP/ca.txt" <<'EOF'
choose_args 0 {
  {
    bucket_id -5
    weight_set [
      [ 1.000 0.500 3.000 2.000 ]
      [ 0.100 2.000 2.000 1.000 ]
    ]
  }
  {
    bucket_id -1
    weight_set [
      [ 1.000 4.000 ]
      [ 3.000 0.000 ]
    ]
    ids [ -21 -22 ]
  }
  {
    bucket_id -2
    ids [ 100 101 ]
  }
}
EOF
crushtool -c "$TMP/ca.txt" -o "$OUT/choose_args_0.bin"
sed -e 's/^choose_args 0 {/choose_args 18446744073709551615 {/' "$TMP/ca.txt" > "$TMP/ca_def.txt"
crushtool -c "$TMP/ca_def.txt" -o "$OUT/choose_args_default.bin"
sed -e 's/^choose_args 0 {/choose_args 5 {/' "$TMP/ca.txt" > "$TMP/ca_5.txt"
crushtool -c "$TMP/ca_5.txt" -o "$OUT/choose_args_pool5.bin"

# 6. a big map: 1024 OSDs, 64 hosts, 8 racks.
build big1024 --num_osds 1024 host straw2 16 rack straw2 8 root straw2 0

# Cases: map rule num_rep min_x max_x weights(dev=w,... or -) sha256
CASES="$OUT/cases.tsv"
printf '# map\trule\tnum_rep\tmin_x\tmax_x\tweights\tsha256 (of crushtool --test --show-mappings stdout)\n' > "$CASES"
case_() {
	map=$1 rule=$2 nrep=$3 minx=$4 maxx=$5 weights=$6
	wargs=""
	if [ "$weights" != "-" ]; then
		for dw in $(echo "$weights" | tr ',' ' '); do
			wargs="$wargs --weight ${dw%%=*} ${dw#*=}"
		done
	fi
	# shellcheck disable=SC2086
	sum=$(crushtool -i "$OUT/$map" --test --rule "$rule" --num-rep "$nrep" --min-x "$minx" \
		--max-x "$maxx" --show-mappings $wargs | sha256sum | cut -d' ' -f1)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$map" "$rule" "$nrep" "$minx" "$maxx" "$weights" "$sum" >> "$CASES"
}
# x in [0, 10000) for the plain firstn and indep rules of every algorithm; smaller ranges
# where retries make each mapping slow (indep holes with choose_tries 100, tight maps).
W_ALG="1=0.5,6=0,11=0.25,14=0.9"
for alg in uniform list tree straw straw2; do
	m="alg_$alg.bin"
	case_ "$m" 0 3 0 9999 -
	case_ "$m" 1 4 0 9999 -
	case_ "$m" 0 5 0 299 -
	case_ "$m" 1 6 0 99 -
	case_ "$m" 2 3 0 499 -
	case_ "$m" 3 5 0 499 -
	case_ "$m" 4 4 0 499 -
	case_ "$m" 5 6 0 299 -
	case_ "$m" 0 3 0 499 "$W_ALG"
	case_ "$m" 1 4 0 299 "$W_ALG"
done
W_MIX="1=0.5,5=0,9=0.3,12=0.75,17=0.1,21=0"
for m in mixed.bin mixed_legacy.bin mixed_bobtail.bin mixed_firefly.bin; do
	for rule in 0 1 2 3 4 5 6 7 8 9; do
		case_ "$m" "$rule" 4 0 199 -
	done
	case_ "$m" 0 3 0 299 "$W_MIX"
	case_ "$m" 1 6 0 99 "$W_MIX"
	case_ "$m" 4 3 0 299 "$W_MIX"
	case_ "$m" 5 5 0 199 "$W_MIX"
done
for rule in 0 1 2 3; do
	case_ classes.bin "$rule" 3 0 999 -
done
case_ classes.bin 2 4 0 499 "0=0,4=0.5"
for m in choose_args_0.bin choose_args_default.bin choose_args_pool5.bin; do
	case_ "$m" 0 3 0 999 -
	case_ "$m" 0 5 0 199 -
	case_ "$m" 1 4 0 299 "2=0.5"
done
case_ big1024.bin 0 3 0 999 "3=0.5,700=0,1000=0.2"
case_ big1024.bin 1 6 0 199 -
echo "wrote $(grep -vc '^#' "$CASES") cases to $CASES"
