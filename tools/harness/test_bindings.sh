#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of soundness point 12: the Rust bindings' layout of the structs
# Rust reads must be the C layout, and bindings_check.py must catch it when
# it is not. Regenerates the kernel's bindings without
# `--opaque-type sched_statistics` (the exact bindgen command of the build,
# from $KBUILD/rust/bindings/.bindings_generated.rs.cmd, into a temporary
# file) and expects the check to fail naming task_struct; the built bindings
# must pass. Also a self-contained case (clang, pahole, bindgen on a small
# header) of the same bug. Prints TAP; diagnostics go to stderr.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
kernel_paths
export RUSTUP_TOOLCHAIN=$KERNEL_RUST
CHECK=$ROOT/tools/harness/bindings_check.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
results=()
# result OK|FAIL DESCRIPTION
result() {
	n=$((n + 1))
	if [ "$1" = OK ]; then results+=("ok $n - $2"); else results+=("not ok $n - $2"); fi
}
# diag FILE: a check's output, as TAP comments (its first 30 lines and its last)
diag() {
	local n
	n=$(wc -l <"$1")
	{
		head -n 30 "$1"
		((n > 31)) && echo "... $((n - 31)) more lines ..."
		((n > 30)) && tail -n 1 "$1"
	} | sed 's/^/# /' >>"$tmp/diag"
}
: >"$tmp/diag"

# 1. The bindings the kernel was built with match BTF.
if [ -f "$KBUILD/.build-stamp" ]; then
	python3 "$CHECK" --kdir "$KBUILD" >"$tmp/good.out" 2>&1
	rc=$?
else
	echo "kernel not built ($KBUILD/.build-stamp missing)" >"$tmp/good.out"
	rc=2
fi
diag "$tmp/good.out"
[ $rc = 0 ] && r=OK || r=FAIL
result $r "soundness point 12: the built bindings match vmlinux BTF (bindings_check.py exit $rc)"

# 2-3. The same bindings generated without --opaque-type sched_statistics.
cmdfile=$KBUILD/rust/bindings/.bindings_generated.rs.cmd
broken=$tmp/bindings_no_opaque.rs
regen=FAIL
if [ -f "$cmdfile" ] && [ -f "$KBUILD/.build-stamp" ]; then
	# The saved command is `bindgen ARGS -o OUT -- CFLAGS ; sed ...`: keep the
	# bindgen part, drop the flag under test and the depfile, redirect -o.
	mapfile -d '' -t argv < <(python3 -c '
import shlex, sys
line = next(l for l in open(sys.argv[1]) if l.startswith("savedcmd_"))
cmd = line.split(":=", 1)[1].split(";", 1)[0]
sys.stdout.write("\0".join(shlex.split(cmd)) + "\0")' "$cmdfile")
	args=()
	dropped=0
	for ((i = 0; i < ${#argv[@]}; i++)); do
		a=${argv[i]}
		if [ "$a" = --opaque-type ] && [ "${argv[i + 1]:-}" = sched_statistics ]; then
			dropped=1; i=$((i + 1)); continue
		fi
		if [ "$a" = -o ]; then args+=(-o "$broken"); i=$((i + 1)); continue; fi
		case $a in -Wp,-MMD,*) continue ;; esac
		args+=("$a")
	done
	if [ "${args[0]:-}" != bindgen ]; then
		echo "# unexpected command in $cmdfile: ${argv[*]:0:3}" >>"$tmp/diag"
	elif [ $dropped = 0 ]; then
		echo "# $cmdfile has no --opaque-type sched_statistics (patch 0013 missing?)" >>"$tmp/diag"
	elif (cd "$KBUILD" && "${args[@]}") >"$tmp/bindgen.out" 2>&1 && [ -s "$broken" ]; then
		regen=OK
	else
		diag "$tmp/bindgen.out"
	fi
else
	echo "# no $cmdfile or kernel not built" >>"$tmp/diag"
fi
rc=-
if [ $regen = OK ]; then
	python3 "$CHECK" --vmlinux "$KBUILD/vmlinux" --bindings "$broken" >"$tmp/bad.out" 2>&1
	rc=$?
	diag "$tmp/bad.out"
fi
[ $rc = 1 ] && r=OK || r=FAIL
result $r "soundness point 12: bindings without --opaque-type sched_statistics fail the check (exit $rc)"
line=$(grep -Em1 '^bindings_check: task_struct\.pid: Rust offset [0-9]+, BTF [0-9]+$' "$tmp/bad.out" 2>/dev/null)
[ -n "$line" ] && r=OK || r=FAIL
result $r "soundness point 12: the failure names task_struct.pid (${line#bindings_check: task_struct.pid: })"

# 4-6. Self-contained: an empty cache-line-aligned struct inside another.
syn=$tmp/syn
mkdir -p "$syn"
cat >"$syn/t.h" <<'EOF'
struct empty_aligned {} __attribute__((aligned(64)));
struct outer {
	int a;
	struct empty_aligned e;
	union { long u; char c; };
	int type;
	unsigned int bf:3;
	int pid;
};
EOF
printf '#include "t.h"\nstruct outer o;\n' >"$syn/t.c"
bg=(bindgen "$syn/t.h" --no-layout-tests --use-core --ctypes-prefix ffi)
if clang -g -c "$syn/t.c" -o "$syn/t.o" >"$syn/log" 2>&1 && pahole -J "$syn/t.o" >>"$syn/log" 2>&1 &&
	"${bg[@]}" -o "$syn/bad.rs" >>"$syn/log" 2>&1 &&
	"${bg[@]}" --opaque-type empty_aligned -o "$syn/good.rs" >>"$syn/log" 2>&1; then
	python3 "$CHECK" --vmlinux "$syn/t.o" --bindings "$syn/bad.rs" --struct outer >"$syn/bad.out" 2>&1
	rc=$?
	diag "$syn/bad.out"
	[ $rc = 1 ] && grep -q '^bindings_check: outer\.pid: Rust offset 24, BTF 80$' "$syn/bad.out" &&
		r=OK || r=FAIL
	result $r "soundness point 12: an empty aligned struct without its alignment is caught (exit $rc)"
	python3 "$CHECK" --vmlinux "$syn/t.o" --bindings "$syn/good.rs" --struct outer >"$syn/good.out" 2>&1
	rc=$?
	diag "$syn/good.out"
	[ $rc = 0 ] && r=OK || r=FAIL
	result $r "soundness point 12: ... and passes as an opaque type (exit $rc)"
	# The check reads bindgen's output as tokens, not as rustfmt lays it out.
	rc=-
	"${bg[@]}" --formatter none -o "$syn/raw.rs" >>"$syn/log" 2>&1 &&
		{ python3 "$CHECK" --vmlinux "$syn/t.o" --bindings "$syn/raw.rs" --struct outer \
			>"$syn/raw.out" 2>&1; rc=$?; }
	cmp -s <(sort "$syn/bad.out" | sed 's/ of [a-z]*\.rs / /;s/([0-9.]*s)$//') \
		<(sort "$syn/raw.out" | sed 's/ of [a-z]*\.rs / /;s/([0-9.]*s)$//') && [ $rc = 1 ] &&
		r=OK || r=FAIL
	result $r "soundness point 12: ... also in unformatted bindgen output (exit $rc)"
else
	diag "$syn/log"
	for t in "an empty aligned struct without its alignment is caught" \
		"... and passes as an opaque type" "... also in unformatted bindgen output"; do
		result FAIL "soundness point 12: $t (clang, pahole or bindgen failed)"
	done
fi

# 7. A usage or tool error is exit 2, never a pass.
python3 "$CHECK" --vmlinux "$tmp/none" --bindings "$tmp/none" >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && r=OK || r=FAIL
result $r "soundness point 12: missing inputs are a tool error (exit $rc)"

echo "TAP version 13"
echo "1..$n"
cat "$tmp/diag"
printf '%s\n' "${results[@]}"
