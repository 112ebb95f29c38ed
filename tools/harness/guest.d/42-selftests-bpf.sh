#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The series' tests in tools/testing/selftests/bpf (patches/6.12/0002: BPF_LINK_UPDATE
# runs attach's checks of an iterator program, the fix of patches/6.12/0001), run
# by upstream's test_progs as built by selftests_bpf.sh. One result per test
# and per subtest that test_progs reports, named as it names them; one that
# it does not report is a failure.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/selftests-bpf.log
: >"$LOG"
mapfile -t want <"$OUT/selftests-bpf.list"
plan ${#want[@]}

# test_progs looks for bpf_testmod.ko and its helpers in its directory.
cd "$OUT/bin" || exit 1
declare -A got=()
for t in $(grep -v / "$OUT/selftests-bpf.list"); do
	test_progs -t "$t" >>"$LOG" 2>&1
	echo "test_progs -t $t: exit $?" >>"$LOG"
done
# "#1/2     bpf_iter_link_update/value_overwrite:OK", "#1       bpf_iter_link_update:FAIL"
while read -r name result; do
	got[$name]=$result
done < <(sed -n -E 's/^#[0-9]+(\/[0-9]+)? +([a-z0-9_/]+):([A-Z]+).*/\2 \3/p' "$LOG")
for w in "${want[@]}"; do
	case ${got[$w]:-} in
	OK) ok "selftests/bpf: $w" ;;
	"") not_ok "selftests/bpf: $w" "test_progs did not report it (see selftests-bpf.log)" ;;
	*) not_ok "selftests/bpf: $w" "${got[$w]} (see selftests-bpf.log)" ;;
	esac
done
