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
# Loop B, meanwhile: verify programs for the target, attach and read some.
loads=0 verified=0 attached=0 bad=0
while kill -0 $a 2>/dev/null; do
	loads=$((loads + 1))
	if "$BPFTOOL" prog load "$P/records.bpf.o" $FS/rrp >>"$LOG" 2>&1; then
		verified=$((verified + 1))
		rm -f $FS/rrp
	fi
	if "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rri >>"$LOG" 2>&1; then
		attached=$((attached + 1))
		got=$(cat $FS/rri 2>&1 | head -n 3)
		[ "$got" = "$want" ] || { bad=$((bad + 1)); echo "bad read: $got" >>"$LOG"; }
		rm -f $FS/rri
	fi
done
wait $a
cycles=$(cat $OUT/reregister.cycles 2>/dev/null || echo 0)
if [ "$cycles" -gt 0 ] && [ "$loads" -gt 0 ]; then
	ok "point 2: $cycles unregister/register cycles while $loads programs were loaded ($verified verified, $attached attached and read)"
else
	not_ok "point 2: unregister/register while programs are loaded" "cycles $cycles, loads $loads"
fi
expect_eq "point 2: every read of an attached iterator well formed" "$bad" 0
expect_eq "point 3: the link pinned before the loop still reads" "$(cat $FS/rr0 2>&1 | head -n 3)" "$want"
rm -f $FS/rr0
echo 1 >$D/registered
check "point 3: pin after the loop" "$BPFTOOL" iter pin "$P/records.bpf.o" $FS/rr1
rm -f $FS/rr1
check "rmmod once nothing holds the module" unload_module $MOD
