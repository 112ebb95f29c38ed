#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of `make external M=DIR`: a target directory outside the
# repository, built as make modules builds samples/ (pinned toolchain, the
# harness' kernel tree, the layout check). A copy of the guide's example
# (samples/rust/bpf_iter_primes) in a temporary directory must build with the
# documented command, with its .ko landing in that directory; a copy with a
# hand-written BTF C file whose anchor does not match the Rust context must
# fail at the layout check; a directory without Kbuild or Makefile is refused;
# and the module built outside runs in a guest with `make guest CMD=...`, its
# parameter passed by bpf-iter (OUT: the make check output directory, whose
# bin/ and progs/ hold bpf-iter and the example's program).
# Prints TAP; diagnostics go to stderr.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
# modules.sh builds EXT in $CACHE/external-build-<hash of its path>: remove those too.
cleanup() {
	local d
	for d in ext bad empty; do
		rm -rf "$CACHE/external-build-$(printf %s "$tmp/$d" | sha256sum | cut -c1-8)"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..5"

cp -r "$ROOT/samples/rust/bpf_iter_primes" "$tmp/ext"
if make -s -C "$ROOT" external M="$tmp/ext" </dev/null >"$tmp/log1" 2>&1 &&
	[ -f "$tmp/ext/rust_bpf_iter_primes.ko" ]; then
	echo "ok 1 - make external M=: the guide's example, in a directory outside the repository, builds, .ko in it"
else
	echo "not ok 1 - make external M=: the guide's example, in a directory outside the repository, builds, .ko in it"
	tail -n 20 "$tmp/log1" >&2
fi

# A hand-written C file for the BTF instead of the generated one, whose anchor says the index
# is a u64 where the Rust context says a u32: the layout check (which checks the generator's
# output the same way) must refuse it. It is the generated file of the build above (the anchor,
# the context, the open-coded iterator's kfuncs and the module's kfunc set), edited.
gen=$CACHE/external-build-$(printf %s "$tmp/ext" | sha256sum | cut -c1-8)/rust_bpf_iter_primes_main.btf.c
cp -r "$ROOT/samples/rust/bpf_iter_primes" "$tmp/bad"
sed 's/^\(DEFINE_BPF_ITER_FUNC(rust_primes, struct bpf_iter_meta \*meta,\) u32 index,/\1 u64 index,/' \
	"$gen" >"$tmp/bad/rust_bpf_iter_primes_btf.c" 2>/dev/null
sed -i 's/rust_bpf_iter_primes_main\.btf\.o/rust_bpf_iter_primes_btf.o/' "$tmp/bad/Makefile"
if ! grep -q 'rust_bpf_iter_primes_btf.o' "$tmp/bad/Makefile" ||
	! grep -q '^DEFINE_BPF_ITER_FUNC(rust_primes, .*u64 index' "$tmp/bad/rust_bpf_iter_primes_btf.c"; then
	echo "not ok 2 - make external: the layout check refuses a mismatched anchor # the edit did not apply"
elif EXT="$tmp/bad" bash "$ROOT/tools/harness/modules.sh" >"$tmp/log2" 2>&1; then
	echo "not ok 2 - make external: the layout check refuses a mismatched anchor # it built"
elif grep -q "does not match its BTF anchor" "$tmp/log2" && grep -q "not a 4-byte integer" "$tmp/log2"; then
	echo "ok 2 - make external: the layout check refuses a mismatched anchor"
else
	echo "not ok 2 - make external: the layout check refuses a mismatched anchor # other failure"
	tail -n 20 "$tmp/log2" >&2
fi

mkdir "$tmp/empty"
if EXT="$tmp/empty" bash "$ROOT/tools/harness/modules.sh" >"$tmp/log3" 2>&1; then
	echo "not ok 3 - make external: a directory without Kbuild or Makefile is refused # it built"
elif grep -q "has no Kbuild or Makefile" "$tmp/log3"; then
	echo "ok 3 - make external: a directory without Kbuild or Makefile is refused"
else
	echo "not ok 3 - make external: a directory without Kbuild or Makefile is refused # other failure"
	tail -n 20 "$tmp/log3" >&2
fi

# The documented way to try it: `make guest CMD=...` boots the harness' kernel and runs the
# command, here the module built above with bpf-iter passing its parameter.
want=$(python3 -c '
ps, n = [], 2
while len(ps) < 10:
    if all(n % d for d in range(2, int(n ** 0.5) + 1)): ps.append(n)
    n += 1
print("\n".join(f"{i} {p}" for i, p in enumerate(ps)))')
name="make guest CMD=...: the module built outside runs, bpf-iter run --param u32=10 prints the first 10 primes"
if [ -z "${OUT:-}" ] || [ ! -x "$OUT/bin/bpf-iter" ] || [ ! -f "$OUT/progs/rust_primes.bpf.o" ]; then
	echo "not ok 4 - $name # no bpf-iter or program in OUT=${OUT:-}"
elif [ ! -f "$tmp/ext/rust_bpf_iter_primes.ko" ]; then
	echo "not ok 4 - $name # no module (case 1 failed)"
else
	got=$(BIN="$OUT/bin" make -s -C "$ROOT" guest \
		CMD="insmod $tmp/ext/rust_bpf_iter_primes.ko && bpf-iter run $OUT/progs/rust_primes.bpf.o --param u32=10" \
		2>"$tmp/log4" | grep -E '^[0-9]+ [0-9]+$')
	if [ "$got" = "$want" ]; then
		echo "ok 4 - $name"
	else
		echo "not ok 4 - $name # got '$(echo "$got" | head -3 | tr '\n' '|')'"
		tail -n 20 "$tmp/log4" >&2
	fi
fi

# soundness-2 point 1: two target types of one name in one module would share one anchor, so
# that a program verified against one could run with the other's context: the build refuses
# them (the generator of the BTF C, from the two layout records).
cp -r "$ROOT/samples/rust/bpf_iter_primes" "$tmp/dup"
cat >>"$tmp/dup/rust_bpf_iter_primes_main.rs" <<'EOR'

/// A second target type named `rust_primes`, with a context of its own.
struct Again;

kernel::bpf_iter_context! {
    struct AgainCtx { value: Scalar<u64> }
}

#[vtable]
impl iter::Target for Again {
    const NAME: &'static CStr = c_str!("rust_primes");
    type Ctx<'a> = AgainCtx;
    type Data = ();
    type Params = ();
    type Link = ();
    type Iter = ();
    type Item = Index;
    fn attach(_: (), (): ()) -> Result {
        Ok(())
    }
    fn init_iter(_: &()) -> Result {
        Ok(())
    }
    fn start(_: &mut (), _: u64) -> Result<Option<Index>> {
        Ok(None)
    }
    fn next(_: &mut (), item: &mut Option<Index>) {
        *item = None;
    }
    fn ctx<'a>(_: &'a (), _: &'a Index) -> AgainCtx {
        AgainCtx { value: Scalar::new(0) }
    }
}

kernel::bpf_iter_layout!(Again);
EOR
name="soundness-2 point 1: make external refuses two target types named alike in one module"
if EXT="$tmp/dup" bash "$ROOT/tools/harness/modules.sh" >"$tmp/log5" 2>&1; then
	echo "not ok 5 - $name # it built"
elif grep -q "two target types are named 'rust_primes'" "$tmp/log5"; then
	echo "ok 5 - $name"
else
	echo "not ok 5 - $name # other failure"
	tail -n 20 "$tmp/log5" >&2
fi
