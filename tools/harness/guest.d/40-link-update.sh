#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soundness point 1: BPF_LINK_UPDATE on an iterator link makes the checks that
# attach makes. A replacement program is refused (with the errno attach gives)
# if it was verified against another target, if it reads past a read-only
# buffer of the context, or if it is sleepable on a target without
# BPF_ITER_RESCHED; the link then still runs its old program and its module
# stays pinned. A valid replacement works. Both on a Rust target (rust_sample)
# and on the kernel's C bpf_map_elem, whose key-size check was attach-only.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/link-update.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
MOD=rust_bpf_iter_sample
FS=/sys/fs/bpf

. "$HERE/../guest-lib/rust_sample.sh"
want=$SAMPLE_WANT
want_alt=$SAMPLE_WANT_ALT

# load NAME OBJ: load (verify) a program without attaching it, pinned at $FS/NAME.
load() { "$BPFTOOL" prog load "$2" "$FS/$1" >>"$LOG" 2>&1; }
# update LINK PROG: BPF_LINK_UPDATE, prints 0 or the errno name.
update() { bpfpy link-update "$FS/$1" "$FS/$2" 2>>"$LOG"; }

plan 23

# --- Rust target -------------------------------------------------------------
check "rust_sample: insmod" insmod "$OUT/modules/$MOD.ko"
check "rust_sample: link pinned" "$BPFTOOL" iter pin "$P/rust_sample.bpf.o" $FS/lu
expect_eq "rust_sample: link runs its program" "$(cat $FS/lu 2>&1)" "$want"

# (a) A program of another module's target. rust_bpf_iter_sample_twin.ko is
# built from the same sources, so its anchor has the same split-BTF type id as
# ours: attach_btf_id alone cannot tell the two apart, only the BTF object.
# The twin's program prints "alt" lines, which would show if it got installed.
check "rust_sample_twin: insmod" insmod "$OUT/modules/${MOD}_twin.ko"
anchor_id() { # anchor_id MODULE TARGET: the type id of bpf_iter_TARGET in MODULE's BTF
	"$BPFTOOL" btf dump file /sys/kernel/btf/$1 2>>"$LOG" |
		sed -n "s/^\[\([0-9]*\)\] FUNC 'bpf_iter_$2'.*/\1/p"
}
id1=$(anchor_id $MOD rust_sample)
id2=$(anchor_id ${MOD}_twin rust_sample_twin)
if [ -n "$id1" ] && [ "$id1" = "$id2" ]; then
	ok "point 1a: the two modules' anchors share type id $id1"
else
	not_ok "point 1a: the two modules' anchors share a type id" "rust_sample '$id1', rust_sample_twin '$id2'"
fi
load twin "$P/rust_sample_twin.bpf.o"
expect_eq "point 1a: update with the twin module's program refused (EINVAL)" "$(update lu twin)" EINVAL
rm -f $FS/twin
check "rust_sample_twin: rmmod" unload_module ${MOD}_twin

# (b) A program reading 32 bytes of the 16-byte name buffer: EACCES at attach.
load over "$P/rust_sample_overread.bpf.o"
expect_eq "point 1b: update with a program reading past a RdonlyBuf refused (EACCES)" "$(update lu over)" EACCES

# (c) A sleepable program on a target without BPF_ITER_RESCHED: EINVAL at attach.
load sleep "$P/rust_sample_sleepable.bpf.o"
expect_eq "point 1c: update with a sleepable program refused (EINVAL)" "$(update lu sleep)" EINVAL

expect_eq "rust_sample: the link still runs its old program" "$(cat $FS/lu 2>&1)" "$want"
rm -f $FS/over $FS/sleep
sleep 0.2
expect_eq "rust_sample: delete_module still refused while the link is pinned" "$(bpfpy rmmod $MOD)" EAGAIN

# (d) A valid replacement on the same target.
load alt "$P/rust_sample_alt.bpf.o"
expect_eq "point 1d: update with a valid program of the same target works" "$(update lu alt)" 0
expect_eq "point 1d: the link runs the new program" "$(cat $FS/lu 2>&1)" "$want_alt"
rm -f $FS/alt
sleep 0.2
expect_eq "rust_sample: delete_module refused after the update (new program pins it)" "$(bpfpy rmmod $MOD)" EAGAIN
rm -f $FS/lu
check "rust_sample: rmmod once the link is gone" unload_module $MOD

# --- C target bpf_map_elem ---------------------------------------------------
check "bpf_map_elem: map with 4-byte keys" "$BPFTOOL" map create $FS/m4 type hash key 4 value 4 entries 4 name m4
check "bpf_map_elem: map element" "$BPFTOOL" map update pinned $FS/m4 key 7 0 0 0 value 42 0 0 0
check "bpf_map_elem: link pinned" "$BPFTOOL" iter pin "$P/map_elem.bpf.o" $FS/me map pinned $FS/m4
expect_eq "bpf_map_elem: link runs its program" "$(cat $FS/me 2>&1)" "7 42"
err=$("$BPFTOOL" iter pin "$P/map_elem_overread.bpf.o" $FS/bad map pinned $FS/m4 2>&1)
if [ ! -e $FS/bad ] && echo "$err" | says_errno EACCES "permission denied"; then
	ok "bpf_map_elem: attach refuses a program reading 300 bytes past the key (EACCES)"
else
	not_ok "bpf_map_elem: attach refuses a program reading 300 bytes past the key (EACCES)" "$(echo "$err" | tr '\n' '|')"
	rm -f $FS/bad
fi
load mover "$P/map_elem_overread.bpf.o"
expect_eq "point 1b (C target): update reading past the key refused (EACCES)" "$(update me mover)" EACCES
expect_eq "bpf_map_elem: the link still runs its old program" "$(cat $FS/me 2>&1)" "7 42"
load malt "$P/map_elem_alt.bpf.o"
expect_eq "point 1d (C target): valid update works, output changes" "$(update me malt) $(cat $FS/me 2>&1)" "0 alt 7"
rm -f $FS/me $FS/m4 $FS/mover $FS/malt
