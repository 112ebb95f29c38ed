#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of `make external M=DIR`: a target directory outside the
# repository, built as make modules builds samples/ (pinned toolchain, the
# harness' kernel tree, the layout check). A copy of the records sample in a
# temporary directory must build, with its .ko landing in that directory; the
# same copy with an anchor that no longer matches its Rust context must fail
# at the layout check; a directory without Kbuild or Makefile is refused.
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
SRC=$ROOT/samples/rust/bpf_iter_records

echo "TAP version 13"
echo "1..3"

cp -r "$SRC" "$tmp/ext"
if EXT="$tmp/ext" bash "$ROOT/tools/harness/modules.sh" >"$tmp/log1" 2>&1 &&
	[ -f "$tmp/ext/rust_bpf_iter_records.ko" ]; then
	echo "ok 1 - make external: a target directory outside the repository builds, .ko in it"
else
	echo "not ok 1 - make external: a target directory outside the repository builds, .ko in it"
	tail -n 20 "$tmp/log1" >&2
fi

# The anchor says the record slot is a struct file: the Rust context says a rust_record.
cp -r "$SRC" "$tmp/bad"
sed -i 's/^\t\t     struct rust_record \*rec)$/\t\t     struct file *rec)/' "$tmp/bad/rust_bpf_iter_records_btf.c"
if ! grep -q 'struct file \*rec)$' "$tmp/bad/rust_bpf_iter_records_btf.c"; then
	echo "not ok 2 - make external: the layout check refuses a mismatched anchor # the edit did not apply"
elif EXT="$tmp/bad" bash "$ROOT/tools/harness/modules.sh" >"$tmp/log2" 2>&1; then
	echo "not ok 2 - make external: the layout check refuses a mismatched anchor # it built"
elif grep -q "does not match its BTF anchor" "$tmp/log2"; then
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
