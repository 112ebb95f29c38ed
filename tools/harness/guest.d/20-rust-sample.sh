#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Rust sample target (samples/rust/bpf_iter) end to end: built in and as
# an out-of-tree module, read through pinned iterators, parameters refused,
# link fdinfo, and the module pinned by links and iterator fds; the built-in
# copy's open-coded iterator, walked by a program.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/rust-sample.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
MOD=rust_bpf_iter_sample
KO=$OUT/modules/$MOD.ko
FS=/sys/fs/bpf

. "$HERE/../guest-lib/rust_sample.sh"
want=$SAMPLE_WANT

unload() { unload_module $MOD; }

plan 23

# Built-in target.
check "built-in: bpftool iter pin rust_sample_builtin" "$BPFTOOL" iter pin "$P/rust_sample_builtin.bpf.o" $FS/builtin
expect_eq "built-in: pinned iterator output" "$(cat $FS/builtin 2>&1)" "$want"
rm -f $FS/builtin
# The same type's open-coded iterator, built in: its kfuncs and state struct are vmlinux's,
# its kfunc set registered without a module. It yields the records themselves.
expect_eq "built-in: bpf_for_each(rust_sample_builtin) yields the records the target shows" \
	"$("$OUT/bin/bpf-iter" run "$P/open_sample.bpf.o" 2>>"$LOG")" \
	"$(echo "$want" | sed -n 2,6p)
records 5"

# Module target.
check "module: insmod" insmod "$KO"
check "module: bpftool iter pin rust_sample" "$BPFTOOL" iter pin "$P/rust_sample.bpf.o" $FS/rs
expect_eq "module: pinned iterator output" "$(cat $FS/rs 2>&1)" "$want"
expect_eq "module: second read of the pinned iterator" "$(cat $FS/rs 2>&1)" "$want"
# A tiny read buffer: every read() ends early and the next one resumes.
got=$(dd if=$FS/rs bs=7 2>/dev/null)
expect_eq "module: output read 7 bytes at a time" "$got" "$want"
info=$(bpfpy fdinfo $FS/rs 2>&1)
if echo "$info" | grep -q "^target_name:[[:space:]]*rust_sample$" &&
	echo "$info" | grep -q "^rust_sample_serial:[[:space:]]*[0-9]"; then
	ok "module: link fdinfo shows target and show_fdinfo line"
else
	not_ok "module: link fdinfo shows target and show_fdinfo line" "$(echo "$info" | tr '\n' '|')"
fi
show=$("$BPFTOOL" link show pinned $FS/rs 2>&1)
if echo "$show" | grep -q "target_name rust_sample"; then ok "module: bpftool link show"; else not_ok "module: bpftool link show" "$show"; fi

# Bad input: parameters the target does not take, a program reading past a buffer.
"$BPFTOOL" map create $FS/m type array key 4 value 4 entries 1 name m >>"$LOG" 2>&1
err=$("$BPFTOOL" iter pin "$P/rust_sample.bpf.o" $FS/bad map pinned $FS/m 2>&1)
if [ ! -e $FS/bad ] && echo "$err" | says_errno EINVAL "invalid argument"; then
	ok "module: link parameters refused with EINVAL"
else
	not_ok "module: link parameters refused with EINVAL" "$(echo "$err" | tr '\n' '|')"
fi
rm -f $FS/bad $FS/m
err=$("$BPFTOOL" iter pin "$P/rust_sample_overread.bpf.o" $FS/bad 2>&1)
if [ ! -e $FS/bad ] && echo "$err" | says_errno EACCES "permission denied"; then
	ok "module: program reading past the name buffer refused with EACCES"
else
	not_ok "module: program reading past the name buffer refused with EACCES" "$(echo "$err" | tr '\n' '|')"
fi
rm -f $FS/bad

# Lifetimes: the pinned link, then an open iterator fd, keep the module.
expect_eq "module: delete_module refused while a link is pinned" "$(bpfpy rmmod $MOD)" EAGAIN
if rmmod $MOD >>"$LOG" 2>&1; then not_ok "module: rmmod (kmod) refused while a link is pinned"; else ok "module: rmmod (kmod) refused while a link is pinned"; fi
exec 3<$FS/rs
rm -f $FS/rs
sleep 0.2
expect_eq "module: delete_module refused while an iterator fd is open" "$(bpfpy rmmod $MOD)" EAGAIN
expect_eq "module: the open iterator still reads" "$(cat <&3 2>&1)" "$want"
exec 3<&-
check "module: rmmod allowed once link and iterator are gone" unload
if [ -e /sys/module/$MOD ]; then not_ok "module: gone from /sys/module"; else ok "module: gone from /sys/module"; fi
if "$BPFTOOL" iter pin "$P/rust_sample.bpf.o" $FS/late >>"$LOG" 2>&1; then
	not_ok "module: no target after rmmod"
	rm -f $FS/late
else
	ok "module: no target after rmmod"
fi

# Reload: a new module instance serves new programs.
check "module: insmod again" insmod "$KO"
check "module: pin after reload" "$BPFTOOL" iter pin "$P/rust_sample.bpf.o" $FS/rs2
expect_eq "module: output after reload" "$(cat $FS/rs2 2>&1)" "$want"
rm -f $FS/rs2
check "module: final rmmod" unload
