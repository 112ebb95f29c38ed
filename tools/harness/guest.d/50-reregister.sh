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

plan 8

check "insmod $MOD" insmod "$OUT/modules/$MOD.ko"
echo "a 1" >$D/add && echo "b 2" >$D/add
want=$(printf '1 1 a\n2 2 b\nend')
check "pin while registered" "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rr0
expect_eq "output while registered" "$(cat $FS/rr0 2>&1 | head -n 3)" "$want"

# Loop A: unregister and register for $SECS seconds, counting cycles.
(
	end=$((SECONDS + SECS))
	n=0
	while [ $SECONDS -lt $end ]; do
		echo 0 >$D/registered || break
		echo 1 >$D/registered || break
		n=$((n + 1))
	done
	echo $n >$OUT/reregister.cycles
) &
a=$!
# Loop B, meanwhile: verify the smallest program for the target as fast as
# possible (raw BPF_PROG_LOAD against the module's BTF object and anchor).
objid=$("$BPFTOOL" btf show 2>>"$LOG" | sed -n "s/^\([0-9]*\): name \[$MOD\] .*/\1/p")
tid=$("$BPFTOOL" btf dump file /sys/kernel/btf/$MOD 2>>"$LOG" |
	sed -n "s/^\[\([0-9]*\)\] FUNC 'bpf_iter_rust_records'.*/\1/p")
$BPFPY load-iter "${objid:-0}" "${tid:-0}" "$SECS" >$OUT/reregister.loads 2>>"$LOG" &
b=$!
# Loop C, meanwhile: attach (attach_target runs only while registered) and read.
attached=0 bad=0
while kill -0 $a 2>/dev/null; do
	if "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rri >>"$LOG" 2>&1; then
		attached=$((attached + 1))
		got=$(cat $FS/rri 2>&1 | head -n 3)
		[ "$got" = "$want" ] || { bad=$((bad + 1)); echo "bad read: $got" >>"$LOG"; }
		rm -f $FS/rri
	fi
done
wait $a
wait $b
cycles=$(cat $OUT/reregister.cycles 2>/dev/null || echo 0)
read -r loads accepted refused errs <$OUT/reregister.loads
# Both outcomes seen: verifications raced the registration both ways.
if [ "$cycles" -gt 0 ] && [ "${accepted:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ]; then
	ok "point 2: $cycles unregister/register cycles while $loads programs were verified ($accepted accepted, $refused refused: $errs), $attached attached and read"
else
	not_ok "point 2: verifications raced unregister/register both ways" "cycles $cycles, loads '$(cat $OUT/reregister.loads)', BTF object '$objid', anchor '$tid'"
fi
expect_eq "point 2: every read of an attached iterator well formed" "$bad" 0
expect_eq "point 3: the link pinned before the loop still reads" "$(cat $FS/rr0 2>&1 | head -n 3)" "$want"
rm -f $FS/rr0
echo 1 >$D/registered
check "point 3: pin after the loop" "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rr1
rm -f $FS/rr1
check "rmmod once nothing holds the module" unload_module $MOD
