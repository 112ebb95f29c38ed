#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soundness points 2 and 3: a target is unregistered and registered again in
# a loop while programs for it are verified (bpf_iter_prog_supported() looks
# the target up and takes its context description) and attached in another.
# The core must not touch a target info after dropping targets_mutex, and a
# registration must not rewrite what programs verified earlier read. On the
# debug kernel, KASAN and lockdep watch; here, every read must be well formed
# and the module must unload at the end. rust_records (samples/rust/
# bpf_iter_records) unregisters and registers through its debugfs file
# `registered`.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/reregister.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
MOD=rust_bpf_iter_records
D=/sys/kernel/debug/$MOD
FS=/sys/fs/bpf
SECS=${REREGISTER_SECS:-20}
st() { python3 "$HERE/../guest-lib/stress.py" "$@"; }

plan 8

check "insmod $MOD" insmod "$OUT/modules/$MOD.ko"
echo "a 1" >$D/add && echo "b 2" >$D/add
want=$(printf '1 1 a\n2 2 b\nend')
check "pin while registered" "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rr0
expect_eq "output while registered" "$(cat $FS/rr0 2>&1 | head -n 3)" "$want"

# Loop A: unregister and register for $SECS seconds, counting cycles; each
# state lasts 1 ms, about one verification, so that both loops below see both.
st flip-loop "$SECS" 0.001 >$OUT/reregister.cycles 2>>"$LOG" &
a=$!
# Loop B, meanwhile: verify the smallest program for the target as fast as
# possible (raw BPF_PROG_LOAD against the module's BTF object and anchor).
st verify-loop "$SECS" $MOD rust_records >$OUT/reregister.loads 2>>"$LOG" &
b=$!
# Loop C, meanwhile: attach (attach_target runs only while registered) and read
# with a program that prints a line per object (2 records and the final call).
# Both loops are one Python process each: no exec per iteration (the debug
# kernel's guest execs slowly).
st attach-loop "$SECS" $MOD rust_records 2 >$OUT/reregister.attach 2>>"$LOG"
wait $a
wait $b
read -r attached refusals bad first <$OUT/reregister.attach
echo "attach loop: $attached attached, $refusals refused, first bad read or refusals: $first" >>"$LOG"
cycles=$(cat $OUT/reregister.cycles 2>/dev/null || echo 0)
read -r loads accepted refused errs <$OUT/reregister.loads
# Both outcomes seen: verifications raced the registration both ways.
if [ "$cycles" -gt 0 ] && [ "${accepted:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ]; then
	ok "point 2: $cycles unregister/register cycles while $loads programs were verified ($accepted accepted, $refused refused: $errs), ${attached:-0} attached and read"
else
	not_ok "point 2: verifications raced unregister/register both ways" "cycles $cycles, loads '$(cat $OUT/reregister.loads)'"
fi
if [ "${attached:-0}" -gt 0 ] && [ "${bad:-1}" = 0 ]; then
	ok "point 2: every read of an attached iterator well formed ($attached)"
else
	not_ok "point 2: every read of an attached iterator well formed" "attach loop: '$(cat $OUT/reregister.attach)'"
fi
expect_eq "point 3: the link pinned before the loop still reads" "$(cat $FS/rr0 2>&1 | head -n 3)" "$want"
rm -f $FS/rr0
echo 1 >$D/registered
check "point 3: pin after the loop" "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rr1
rm -f $FS/rr1
check "rmmod once nothing holds the module" unload_module $MOD
