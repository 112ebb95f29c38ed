#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check / make demo: set up everything, boot the kernel under QEMU
# (virtme-ng) and run the tests (check) or the demonstration (demo).
#
# make check also builds the debug kernel (FLAVOR=debug: KASAN, lockdep, UBSAN,
# kmemleak, fault injection, ..., and CONFIG_CGROUPS=n; .config.debug.fragment)
# and the modules against it (the kernel crate and the samples must build
# without their optional parts too), then boots it: every guest suite again,
# the debug-only suites of guest.debug.d (fault injection), and a kmemleak
# scan; its results are named debug-*. DEBUG_KERNEL=0 leaves the debug guest
# out (for work on something else: the results then say it did not run).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODE=${1:-check}
OUT=${OUT:-$ROOT/out/$MODE}
[ "$MODE" = bench ] && [ "${BENCH_CLOCK:-icount}" = wall ] && OUT=$ROOT/out/bench-wall
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1500}
# The debug kernel boots and runs about 10x slower under TCG (measured with
# guest-init.sh and cache=loose: 143 s to reach the suites, the Aya selftests
# 435-544 s; every suite and kmemleak 1,846-2,236 s of uptime before the cli,
# read and bench-smoke suites, which add about 740 s; machines differ ~2x).
DEBUG_GUEST_TIMEOUT=${DEBUG_GUEST_TIMEOUT:-5400}
DEBUG_KERNEL=${DEBUG_KERNEL:-1}
# selected SELECTION SUITE: whether SUITE is in SELECTION (NAME,NAME,...; empty: all).
selected() { case ",${1:-$2}," in *",$2,"*) return 0 ;; esac; return 1; }
# The other kernel (make check only): a normal guest of it with the suites of
# OTHER_SUITES, its results named <kernel>-*, besides its KUnit run and log
# check. OTHER_KERNEL= leaves it out. The default suites keep the other kernel
# honest where the kernels differ: the twins against C (selftest), the records
# target and its debugfs files, open-coded iterators (their kfuncs and the
# verifier around them), the series' own fixes (link-update,
# selftests-bpf), bad input and the soundness points.
if [ "$KERNEL" = 6.12 ]; then OTHER_KERNEL=${OTHER_KERNEL-7.3}; else OTHER_KERNEL=${OTHER_KERNEL-6.12}; fi
OTHER_SUITES=${OTHER_SUITES:-selftest,records,open-coded,link-update,selftests-bpf,soundness,bad-input}
OTHER_GUEST_TIMEOUT=${OTHER_GUEST_TIMEOUT:-1200}
start=$(date +%s)

bash "$ROOT/tools/harness/deps.sh"
bash "$ROOT/tools/harness/kernel.sh"
bash "$ROOT/tools/harness/bpftool.sh"
kernel_paths
BPFTOOL_DIR=$(bash "$ROOT/tools/harness/bpftool.sh" --path)

rm -rf "$OUT"
mkdir -p "$OUT"

# prepare FLAVOR KBUILD OUT: modules, BPF programs and tools built against
# kernel tree KBUILD, into OUT.
prepare() {
	local flavor=$1 kb=$2 out=$3
	mkdir -p "$out"
	FLAVOR=$flavor bash "$ROOT/tools/harness/modules.sh" "$out/modules"
	# Upstream's kernel::debugfs sample, built in the tree (.config.7.3.fragment),
	# for the records suite.
	if [ -f "$kb/samples/rust/rust_debugfs_scoped.ko" ]; then
		cp "$kb/samples/rust/rust_debugfs_scoped.ko" "$out/modules/"
	fi
	step "tools: BPF programs and bpf-iter against $kb (rust $TOOLS_RUST)"
	BPFTOOL=$BPFTOOL_DIR/bpftool LIBBPF_INCLUDE=$BPFTOOL_DIR/libbpf/include \
		bash "$ROOT/tools/bpf-iter/build.sh" "$kb/vmlinux" "$out" ||
		die "building tools/bpf-iter failed"
	cp "$BPFTOOL_DIR/bpftool" "$out/bin/"
	bash "$ROOT/tools/harness/progs.sh" "$kb/vmlinux" "$BPFTOOL_DIR/bpftool" \
		"$BPFTOOL_DIR/libbpf/include" "$out"
	bash "$ROOT/tools/harness/selftests_bpf.sh" "$kb" "$BPFTOOL_DIR" "$out"
}

# point12: the host test of soundness point 12 (Rust bindings' layouts against
# BTF) with the current KERNEL's tree, into OUT/host-bindings.tap.
point12() {
	step "host: soundness point 12 (Rust bindings' layouts against BTF), on $KERNEL"
	bash "$ROOT/tools/harness/test_bindings.sh" >"$OUT/host-bindings.tap" 2>"$OUT/host-bindings.err" || true
}

# KVM only when a probe boot proves it works within seconds; else TCG.
accel=(--disable-kvm)
qemu_opts=()
# make bench: guest time counts instructions (QEMU's icount; sleeping does not
# advance it), so that Rust and C compare by instructions executed: timing the
# same C target against itself gave 1.000 +- 0.001 this way, 0.77-1.14 in TCG
# wall time. BENCH=ROUNDS,PROCS,FDS (default 9,500,20). BENCH_CLOCK=wall
# runs the same without icount, into out/bench-wall, for the wall-time figures
# (reported beside, not judged: TCG's noise).
if [ "$MODE" = bench ]; then
	BENCH=${BENCH:-9,500,20}
	if [ "${BENCH_CLOCK:-icount}" = icount ]; then
		qemu_opts=(--qemu-opts "-icount shift=0,sleep=off")
	elif [ "$BENCH_CLOCK" != wall ]; then
		die "BENCH_CLOCK is icount or wall"
	fi
fi
probe=$CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo x)
fails=()
# boot KBUILD OUT GUEST_MODE TIMEOUT: run guest.sh in a QEMU guest of kernel tree KBUILD.
boot() {
	local kb=$1 out=$2 gmode=$3 limit=$4 rc
	if [ -w /dev/kvm ] && [ ! -f "$probe" ]; then
		if with_lock qemu timeout -k 5 30 vng --run "$kb/arch/x86/boot/bzImage" --exec true </dev/null >/dev/null 2>&1; then
			echo kvm >"$probe"
		else
			echo tcg >"$probe"
		fi
	fi
	[ "$(cat "$probe" 2>/dev/null)" = kvm ] && accel=()
	step "guest: booting $kb/arch/x86/boot/bzImage (${accel[*]:-kvm}, timeout ${limit}s; console: $out/console.log)"
	set +e
	# init: guest-init.sh (no udev; deps.sh wraps virtme-ng-init to honour rbi_init).
	# Without the wrapper, virtme-ng-init runs the same guest.sh through --exec.
	# rootflags: vng's own (the last rootflags= wins) plus cache=loose. vng's
	# cache=none gives every lookup a new inode, so every exec and every Python
	# start read their files again over 9p; the root is read-only in the guest
	# and the host changes nothing on it while the guest runs, so the guest may
	# keep them. Measured on the debug kernel: `python3 -c pass` 27 s -> 6 s,
	# `/bin/true` 3.7 s -> 1.5 s, `cat` of a 6.8 MB file 23 s -> 2-3 s.
	# root=/dev/root: vng names no root device; the kernel then tries 9p with
	# an empty name and finds vng's share (tag /dev/root) only through the
	# block-device fallback, which a kernel without CONFIG_BLOCK lacks.
	# A clone path may have spaces: vng splits --append and runs --exec with a
	# shell, so paths are quoted for both; --rwdir it passes on unquoted to
	# virtme-run, so the guest writes through a symlink without spaces.
	local gout
	gout=$CACHE/guest-out/$(printf %s "$out" | sha256sum | cut -c1-16)
	mkdir -p "$CACHE/guest-out" && ln -sfn "$out" "$gout"
	with_lock qemu timeout -k 10 "$limit" vng "${accel[@]}" "${qemu_opts[@]}" --run "$kb/arch/x86/boot/bzImage" \
		--memory 2G --cpus 2 --verbose --rwdir "$gout" \
		--append "root=/dev/root rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose rbi_init=$(printf %q "$ROOT/tools/harness/guest-init.sh") rbi_mode=$gmode printk.time=1${GUEST_SUITES:+ rbi_suites=$GUEST_SUITES}${BENCH:+ rbi_bench=$BENCH}" \
		--exec "$(printf '%q ' "$ROOT/tools/harness/guest.sh" "$gout" "$gmode")" </dev/null >"$out/console.log" 2>&1
	rc=$?
	set -e
	case $rc in
	0) ;;
	124 | 137) fails+=("$gmode guest timed out after ${limit}s; last console lines: $(tail -n 5 "$out/console.log" | tr '\n' '|')") ;;
	*) fails+=("$gmode guest exited $rc; last console lines: $(tail -n 5 "$out/console.log" | tr '\n' '|')") ;;
	esac
	if grep -q 'Kernel panic' "$out/console.log"; then fails+=("$gmode guest kernel panicked"); fi
}

prepare normal "$KBUILD" "$OUT"

# make bench compares with drgn (PyPI), which runs in the guest from a venv of
# the host's python3 (the guest runs the host's userspace): its Python and the
# vmlinux whose DWARF it reads go to OUT/drgn.conf for bench.py.
if [ "$MODE" = bench ]; then
	drgn_venv=$CACHE/drgn-venv-0.3.0-$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	if ! "$drgn_venv/bin/python" -c 'import drgn' 2>/dev/null; then
		step "bench: drgn 0.3.0 into $drgn_venv"
		rm -rf "$drgn_venv"
		python3 -m venv "$drgn_venv" && "$drgn_venv/bin/pip" install -q drgn==0.3.0 ||
			die "could not install drgn"
	fi
	printf '%s\n%s\n' "$drgn_venv/bin/python" "$KBUILD/vmlinux" >"$OUT/drgn.conf"
fi

results=()
if [ "$MODE" = check ]; then
	step "host: cargo test (tools/bpf-iter)"
	(cd "$ROOT/tools/bpf-iter" &&
		cargo test --locked 2>&1) \
		>"$OUT/host-cargo-test.txt" || true
	step "host: harness self-test (results parser)"
	KUNIT_PY=$KSRC/tools/testing/kunit/kunit.py \
		python3 "$ROOT/tools/harness/test_results.py" >"$OUT/host-harness.tap" 2>&1 || true
	# Soundness point 12 is 6.12's (its bindings need patch 0013): with its kernel,
	# here or in the other kernel's part below.
	[ "$KERNEL" = 6.12 ] && point12
	step "host: compile-fail tests of the Rust API (tools/harness/compile_fail)"
	bash "$ROOT/tools/harness/compile_fail.sh" "$KBUILD" "$CACHE/compile-fail-$(printf %s "$ROOT" | sha256sum | cut -c1-8)" \
		>"$OUT/host-compile-fail.tap" 2>"$OUT/host-compile-fail.err" || true
	step "host: make external (a target directory outside the repository)"
	OUT=$OUT bash "$ROOT/tools/harness/test_external.sh" >"$OUT/host-external.tap" 2>"$OUT/host-external.err" || true
	step "host: the guide's code blocks against their files; the twins' size and unsafe"
	python3 "$ROOT/tools/harness/doc_check.py" "$ROOT" "$ROOT/Documentation/rust/bpf_iter.rst" \
		>"$OUT/host-doc.tap" 2>&1 || true
	python3 "$ROOT/tools/harness/sample_counts.py" "$ROOT" "$KSRC" >"$OUT/host-samples.tap" 2>&1 || true
	step "host: lint (rustfmt, clippy, rustdoc, checkpatch)"
	bash "$ROOT/tools/harness/lint.sh" "$OUT" >"$OUT/host-lint.tap" 2>"$OUT/host-lint.err" || true
	step "host: the debug kernel (CONFIG_CGROUPS=n, KASAN, ...) and the modules build"
	{
		echo "TAP version 13"
		echo "1..2"
		if FLAVOR=debug bash "$ROOT/tools/harness/kernel.sh" >"$OUT/host-debug-kernel.log" 2>&1; then
			echo "ok 1 - soundness point 11: the debug kernel (CGROUPS=n) builds, kernel crate included"
			if FLAVOR=debug bash "$ROOT/tools/harness/modules.sh" >>"$OUT/host-debug-kernel.log" 2>&1; then
				echo "ok 2 - soundness point 11: the samples build against it"
			else
				echo "not ok 2 - soundness point 11: the samples build against it # see host-debug-kernel.log"
			fi
		else
			echo "not ok 1 - soundness point 11: the debug kernel (CGROUPS=n) builds # see host-debug-kernel.log"
			echo "not ok 2 - soundness point 11: the samples build against it # no kernel"
		fi
	} >"$OUT/host-debug-build.tap"
	results+=(--cargo "host-cargo=$OUT/host-cargo-test.txt" --tap "host-harness=$OUT/host-harness.tap"
		--tap "host-compile-fail=$OUT/host-compile-fail.tap"
		--tap "host-external=$OUT/host-external.tap" --tap "host-doc=$OUT/host-doc.tap"
		--tap "host-samples=$OUT/host-samples.tap"
		--tap "host-lint=$OUT/host-lint.tap" --tap "host-debug-build=$OUT/host-debug-build.tap")
fi

boot "$KBUILD" "$OUT" "$MODE" "$GUEST_TIMEOUT"

if [ "$MODE" = bench ]; then
	cat "$OUT/bench.txt" 2>/dev/null
	((${#fails[@]} == 0)) || die "bench failed: ${fails[*]} (see $OUT/bench.err)"
	step "bench: done in $(($(date +%s) - start))s; results in $OUT/results.json"
	# The plot, with matplotlib from a venv of its own (make bench only).
	plot_venv=$CACHE/plot-venv-matplotlib-3.9.4
	if ! "$plot_venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
		step "bench: matplotlib 3.9.4 into $plot_venv"
		rm -rf "$plot_venv"
		python3 -m venv "$plot_venv" && "$plot_venv/bin/pip" install -q matplotlib==3.9.4 ||
			die "could not install matplotlib"
	fi
	"$plot_venv/bin/python" "$ROOT/tools/harness/bench_plot.py" "$OUT/results.json" "$OUT/bench.png" ||
		die "bench_plot.py failed"
	step "bench: plot in $OUT/bench.png"
	[ "${BENCH_CLOCK:-icount}" = icount ] || exit 0
	# Rust/C above 1.02 (instructions, median of the rounds) fails make bench, as
	# does a Rust target whose cost per object at 10,000 processes is more than
	# 1.5 times that at 100, as does an open-coded walk whose cost per task is not
	# flat. The plot: tools/harness/bench_plot.py.
	python3 - "$OUT/results.json" <<-'EOF' || die "make bench: see above"
		import json, sys
		r = json.load(open(sys.argv[1]))
		twins, scale, opened = r["twins"], r["scale"], r.get("open", [])
		bad = []
		for x in twins:
		    if x["ratio_median"] > 1.02:
		        bad.append(f"{x['case']}: Rust/C {x['ratio_median']:.3f} > 1.02")
		for t in {x["case"] for x in scale}:
		    per = {x["procs"]: x["rust_ns_per_object"] for x in scale if x["case"] == t}
		    if 100 in per and 10000 in per and per[10000] > 1.5 * per[100]:
		        bad.append(f"{t}: Rust per object {per[10000]:.1f} at 10,000 processes, "
		                   f"{per[100]:.1f} at 100: more than 1.5x")
		# The open-coded task iterators: Rust/C of the walk, and Rust's cost per task flat.
		for x in opened:
		    if x["ratio_median"] > 1.02:
		        bad.append(f"open task, {x['procs']} processes: Rust/C {x['ratio_median']:.3f} > 1.02")
		# Flat: at every size from 10 to 10,000 processes, within 1.25x of the cheapest (the
		# smallest walks spread the cost of new and destroy over the fewest tasks).
		per = {x["procs"]: x["rust_ns_per_task"] for x in opened}
		if opened and sorted(per) != [10, 100, 1000, 10000]:
		    bad.append(f"open task: sizes {sorted(per)}, not 10, 100, 1,000 and 10,000 processes")
		elif per and max(per.values()) > 1.25 * min(per.values()):
		    bad.append("open task: Rust per task " +
		               ", ".join(f"{v:.1f} at {k}" for k, v in sorted(per.items())) +
		               " processes: more than 1.25x apart")
		for b in bad:
		    print(f"bench: {b}")
		noise = [x["noise_median"] for x in twins + opened]
		print(f"bench: {len(twins)} twin cases, {len(scale)} scale cases, {len(opened)} "
		      f"open-coded cases, {len(bad)} over a limit; C/C (noise) "
		      f"{min(noise):.3f}-{max(noise):.3f}" if noise else "bench: no results")
		sys.exit(1 if bad or not (twins or scale or opened) else 0)
	EOF
	exit 0
fi

if [ "$MODE" = demo ]; then
	cat "$OUT/demo.txt" 2>/dev/null || true
	((${#fails[@]} == 0)) || die "demo failed: ${fails[*]}"
	step "demo: done in $(($(date +%s) - start))s (console: $OUT/console.log)"
	exit 0
fi

# The debug kernel: the same suites again, and a kmemleak scan after them.
DOUT=$OUT/debug
if [ "$DEBUG_KERNEL" = 1 ]; then
	if FLAVOR=debug bash "$ROOT/tools/harness/kernel.sh"; then
		DKBUILD=$(FLAVOR=debug bash "$ROOT/tools/harness/kernel.sh" --kdir)
		prepare debug "$DKBUILD" "$DOUT"
		GUEST_SUITES=${DEBUG_GUEST_SUITES:-${GUEST_SUITES:-}} \
			boot "$DKBUILD" "$DOUT" check-debug "$DEBUG_GUEST_TIMEOUT"
	else
		fails+=("the debug kernel did not build")
	fi
else
	fails+=("the debug guest was not run (DEBUG_KERNEL=$DEBUG_KERNEL)")
fi

# The other kernel: built, its modules and programs, a normal guest (in a
# subshell: lib.sh's paths are per kernel; failures come back in a file).
OOUT=$OUT/$OTHER_KERNEL
if [ "$MODE" = check ] && [ -n "$OTHER_KERNEL" ]; then
	mkdir -p "$OOUT"
	: >"$OOUT/fails.txt"
	(
		export KERNEL=$OTHER_KERNEL FLAVOR=normal
		. "$ROOT/tools/harness/lib.sh"
		fails=()
		if bash "$ROOT/tools/harness/kernel.sh" >"$OOUT/kernel.log" 2>&1 &&
			bash "$ROOT/tools/harness/bpftool.sh" >>"$OOUT/kernel.log" 2>&1; then
			kernel_paths
			BPFTOOL_DIR=$(bash "$ROOT/tools/harness/bpftool.sh" --path)
			[ "$KERNEL" = 6.12 ] && point12
			if (prepare normal "$KBUILD" "$OOUT") >>"$OOUT/kernel.log" 2>&1; then
				GUEST_SUITES=$OTHER_SUITES boot "$KBUILD" "$OOUT" check "$OTHER_GUEST_TIMEOUT"
			else
				fails+=("$KERNEL: modules or programs did not build (see $OOUT/kernel.log)")
			fi
		else
			fails+=("$KERNEL: the kernel did not build (see $OOUT/kernel.log)")
		fi
		((${#fails[@]} == 0)) || printf '%s\n' "${fails[@]}" >"$OOUT/fails.txt"
	)
	mapfile -t ofails <"$OOUT/fails.txt"
	((${#ofails[@]} == 0)) || fails+=("${ofails[@]}")
	for suite in "$ROOT"/tools/harness/guest.d/*.sh; do
		name=$(basename "$suite" .sh)
		name=${name#[0-9][0-9]-}
		selected "$OTHER_SUITES" "$name" && results+=(--tap "$OTHER_KERNEL-$name=$OOUT/$name.tap")
	done
fi

# Every guest suite must have reported: a missing TAP file is a failure, and so
# is a suite left out with GUEST_SUITES / DEBUG_GUEST_SUITES (NAME,NAME,...: for
# work on a suite).
# expect GUEST SELECTION DIR SUITE: SUITE's TAP in DIR, or a failure if the
# selection left it out.
expect() {
	local name
	name=$(basename "$4" .sh)
	name=${name#[0-9][0-9]-}
	if selected "$2" "$name"; then
		results+=(--tap "$1-$name=$3/$name.tap")
	else
		fails+=("suite $name not run in the ${1/guest/normal} guest (selection: $2)")
	fi
}
for suite in "$ROOT"/tools/harness/guest.d/*.sh; do
	expect guest "${GUEST_SUITES:-}" "$OUT" "$suite"
	# Not on the debug kernel: a suite whose header says `# debug-kernel: no (why)`.
	grep -q '^# debug-kernel: no' "$suite" && continue
	[ "$DEBUG_KERNEL" = 1 ] && expect debug "${DEBUG_GUEST_SUITES:-${GUEST_SUITES:-}}" "$DOUT" "$suite"
done
if [ "$DEBUG_KERNEL" = 1 ]; then
	for suite in "$ROOT"/tools/harness/guest.debug.d/*.sh; do
		expect debug "${DEBUG_GUEST_SUITES:-${GUEST_SUITES:-}}" "$DOUT" "$suite"
	done
fi
# KUnit's results: the kernel's kunit.py parse of the guest logs (results.py checks that its
# own KTAP parser agrees).
args=(--kernel-log "$OUT/dmesg.txt" --kernel-log "$OUT/console.log" --kunit
	--kunit-tool "$KSRC/tools/testing/kunit/kunit.py" "${results[@]}")
if [ "$DEBUG_KERNEL" = 1 ]; then
	args+=(--tap "debug-kmemleak=$DOUT/kmemleak.tap" --guest "debug=$DOUT/dmesg.txt,$DOUT/console.log")
fi
if [ "$MODE" = check ] && [ -n "$OTHER_KERNEL" ]; then
	args+=(--guest "$OTHER_KERNEL=$OOUT/dmesg.txt,$OOUT/console.log")
fi
if [ "$MODE" = check ] && { [ "$KERNEL" = 6.12 ] || [ "$OTHER_KERNEL" = 6.12 ]; }; then
	args+=(--tap "host-bindings=$OUT/host-bindings.tap")
fi
for f in "${fails[@]}"; do args+=(--fail "$f"); done
step "check: finished in $(($(date +%s) - start))s"
python3 "$ROOT/tools/harness/results.py" "${args[@]}"
