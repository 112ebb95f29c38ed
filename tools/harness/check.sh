#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check / make demo: set up everything, boot the kernel under QEMU
# (virtme-ng) and run the tests (check) or the demonstration (demo).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODE=${1:-check}
OUT=${OUT:-$ROOT/out/$MODE}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900}
start=$(date +%s)

bash "$ROOT/tools/harness/deps.sh"
bash "$ROOT/tools/harness/kernel.sh"
bash "$ROOT/tools/harness/bpftool.sh"
kernel_paths
BPFTOOL_DIR=$(bash "$ROOT/tools/harness/bpftool.sh" --path)

rm -rf "$OUT"
mkdir -p "$OUT"
bash "$ROOT/tools/harness/modules.sh" "$OUT/modules"

step "tools: BPF programs and bpf-iter (rust $TOOLS_RUST)"
BPFTOOL=$BPFTOOL_DIR/bpftool LIBBPF_INCLUDE=$BPFTOOL_DIR/libbpf/include \
	bash "$ROOT/tools/bpf-iter/build.sh" "$KBUILD/vmlinux" "$OUT" ||
	die "building tools/bpf-iter failed"
cp "$BPFTOOL_DIR/bpftool" "$OUT/bin/"
bash "$ROOT/tools/harness/progs.sh" "$KBUILD/vmlinux" "$BPFTOOL_DIR/bpftool" \
	"$BPFTOOL_DIR/libbpf/include" "$OUT"

results=()
if [ "$MODE" = check ]; then
	step "host: cargo test (tools/bpf-iter)"
	(cd "$ROOT/tools/bpf-iter" &&
		cargo test --locked 2>&1) \
		>"$OUT/host-cargo-test.txt" || true
	step "host: harness self-test (results parser)"
	python3 "$ROOT/tools/harness/test_results.py" >"$OUT/host-harness.tap" 2>&1 || true
	step "host: soundness point 12 (Rust bindings' layouts against BTF)"
	bash "$ROOT/tools/harness/test_bindings.sh" >"$OUT/host-bindings.tap" 2>"$OUT/host-bindings.err" || true
	step "host: compile-fail tests of the Rust API (tools/harness/compile_fail)"
	bash "$ROOT/tools/harness/compile_fail.sh" "$KBUILD" "$CACHE/compile-fail-$(printf %s "$ROOT" | sha256sum | cut -c1-8)" \
		>"$OUT/host-compile-fail.tap" 2>"$OUT/host-compile-fail.err" || true
	step "host: lint (rustfmt, clippy, rustdoc, checkpatch)"
	bash "$ROOT/tools/harness/lint.sh" "$OUT" >"$OUT/host-lint.tap" 2>"$OUT/host-lint.err" || true
	results+=(--cargo "host-cargo=$OUT/host-cargo-test.txt" --tap "host-harness=$OUT/host-harness.tap"
		--tap "host-bindings=$OUT/host-bindings.tap" --tap "host-compile-fail=$OUT/host-compile-fail.tap"
		--tap "host-lint=$OUT/host-lint.tap")
fi

# KVM only when a probe boot proves it works within seconds; else TCG.
accel=(--disable-kvm)
probe=$CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo x)
if [ -w /dev/kvm ] && [ ! -f "$probe" ]; then
	if with_lock qemu timeout -k 5 30 vng --run "$KBUILD/arch/x86/boot/bzImage" --exec true </dev/null >/dev/null 2>&1; then
		echo kvm >"$probe"
	else
		echo tcg >"$probe"
	fi
fi
[ "$(cat "$probe" 2>/dev/null)" = kvm ] && accel=()
step "guest: booting $KBUILD/arch/x86/boot/bzImage (${accel[*]:-kvm}, timeout ${GUEST_TIMEOUT}s; console: $OUT/console.log)"
fails=()
set +e
with_lock qemu timeout -k 10 "$GUEST_TIMEOUT" vng "${accel[@]}" --run "$KBUILD/arch/x86/boot/bzImage" \
	--memory 2G --cpus 2 --verbose --rwdir "$OUT" \
	--exec "$ROOT/tools/harness/guest.sh $OUT $MODE" </dev/null >"$OUT/console.log" 2>&1
rc=$?
set -e
case $rc in
0) ;;
124 | 137) fails+=("guest timed out after ${GUEST_TIMEOUT}s; last console lines: $(tail -n 5 "$OUT/console.log" | tr '\n' '|')") ;;
*) fails+=("guest exited $rc; last console lines: $(tail -n 5 "$OUT/console.log" | tr '\n' '|')") ;;
esac
grep -q 'Kernel panic' "$OUT/console.log" && fails+=("guest kernel panicked")

if [ "$MODE" = demo ]; then
	cat "$OUT/demo.txt" 2>/dev/null || true
	((${#fails[@]} == 0)) || die "demo failed: ${fails[*]}"
	step "demo: done in $(($(date +%s) - start))s (console: $OUT/console.log)"
	exit 0
fi

# Every guest suite must have reported: a missing TAP file is a failure.
for suite in "$ROOT"/tools/harness/guest.d/*.sh; do
	name=$(basename "$suite" .sh)
	name=${name#[0-9][0-9]-}
	results+=(--tap "guest-$name=$OUT/$name.tap")
done
args=(--kernel-log "$OUT/dmesg.txt" --kernel-log "$OUT/console.log" --kunit "${results[@]}")
for f in "${fails[@]}"; do args+=(--fail "$f"); done
step "check: finished in $(($(date +%s) - start))s"
python3 "$ROOT/tools/harness/results.py" "${args[@]}"
