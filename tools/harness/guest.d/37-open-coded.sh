#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Open-coded iterators from Rust (kernel::bpf::iter::OpenIter): the primes
# sample's rust_primes, walked with bpf_for_each from programs that bpf-iter
# loads (the kfuncs are the module's: their calls name its BTF) and that
# bpftool (libbpf) loads. Its output against trial division in BPF and against
# the module's seq_file target of the same type; what new refuses; the
# verifier refusing programs that misuse the iterator; its walks from hard
# interrupts and what its kfuncs do in NMI context; the module pinned by a
# loaded program and unloadable once it is freed. Then the selftest module's
# RCU-protected and sleepable iterators, in programs that respect their
# protection and in two the verifier must refuse; and a module whose iterator
# is named as vmlinux's task iterator, which must not load. Last, the task
# sample's rust_task (an RCU-protected iterator of tasks, taking a task) side by
# side with C's task iterator in one program, and against the seq_file rust_task.
# The primes and records samples'
# kfuncs of their own (kernel::bpf::iter::Kfunc), in the same sets as their
# iterators', called from programs; the sleepable one refused to a program that
# is not sleepable.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/open-coded.log
: >"$LOG"
BI=$OUT/bin/bpf-iter
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
MOD=rust_bpf_iter_primes
PIN=/sys/fs/bpf/open_primes
TMP=$(mktemp -d)
REFUSED=(NO_DESTROY NEXT_AFTER_DESTROY NEW_TWICE READ_STATE WRITE_STATE SMALL_STATE)
SELFTEST=rust_bpf_iter_selftest
CLASH=rust_bpf_iter_clash
CLASH2=rust_bpf_iter_clash_module
TASKMOD=rust_bpf_iter_task
plan $((48 + ${#REFUSED[@]}))

# refused CASE: the verifier's message for each program it must refuse (6.12
# says "as arg #0", 7.3 names the argument otherwise: the common part).
refused() {
	case $1 in
	NO_DESTROY) echo "Unreleased reference id=" ;;
	NEXT_AFTER_DESTROY | WRITE_STATE) echo "expected an initialized iter_rust_primes as" ;;
	NEW_TWICE) echo "expected uninitialized iter_rust_primes as" ;;
	READ_STATE) echo "invalid read from stack off" ;;
	SMALL_STATE) echo "cannot pass in iter at an offset=" ;;
	esac
}
# clash_refused MODULE WHAT LOGLINE: insmod MODULE fails with init's EEXIST (6.12 passes it
# on; 7.3's module loader reports it as EBUSY, keeping EEXIST for "already loaded",
# do_init_module()), the kernel log says LOGLINE, and the module is not loaded: 3 results.
clash_refused() {
	local out rc want
	dmesg -c >/dev/null 2>&1
	out=$(insmod "$OUT/modules/$1.ko" 2>&1)
	rc=$?
	echo "== insmod $1: $rc $out" >>"$LOG"
	case $(uname -r) in 6.*) want="file exists" ;; *) want="device or resource busy" ;; esac
	if [ $rc != 0 ] && echo "$out" | grep -qi "$want"; then
		ok "insmod $1 ($2) fails with init's EEXIST ($want)"
	else
		not_ok "insmod $1 ($2) fails with init's EEXIST ($want)" "rc $rc: $out"
	fi
	if dmesg | grep -qF "$3"; then
		ok "$1: the kernel log names the kfunc whose name is taken"
	else
		not_ok "$1: the kernel log names the kfunc whose name is taken" "$(dmesg | tail -3 | tr '\n' '|')"
	fi
	if [ ! -d "/sys/module/$1" ]; then ok "$1 is not loaded"; else not_ok "$1 is not loaded"; fi
}
# expect_refused NAME OBJ REGEX: bpf-iter run OBJ fails, its output (the verifier's log)
# matching REGEX (grep -E).
expect_refused() {
	local out
	out=$("$BI" run "$2" 2>&1)
	echo "== $1: $out" >>"$LOG"
	if echo "$out" | grep -qE -- "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(echo "$out" | tail -2 | tr '\n' '|')"
	fi
}

check "insmod $MOD" insmod "$OUT/modules/$MOD.ko"
kf=$("$BPFTOOL" btf dump file /sys/kernel/btf/$MOD 2>>"$LOG" | grep -oE "FUNC 'bpf_iter_rust_primes_(new|next|destroy)'" | sort | tr '\n' ' ')
expect_eq "the module's BTF has the three kfuncs" "$kf" \
	"FUNC 'bpf_iter_rust_primes_destroy' FUNC 'bpf_iter_rust_primes_new' FUNC 'bpf_iter_rust_primes_next' "

"$BI" run "$P/open_primes.bpf.o" --prog rust_walk >"$TMP/rust" 2>>"$LOG"
"$BI" run "$P/open_primes.bpf.o" --prog c_walk >"$TMP/c" 2>>"$LOG"
if [ "$(wc -l <"$TMP/rust")" = 100 ] && cmp -s "$TMP/rust" "$TMP/c"; then
	ok "bpf-iter: bpf_for_each(rust_primes, p, 100) prints what trial division in BPF prints"
else
	not_ok "bpf-iter: bpf_for_each(rust_primes, p, 100) prints what trial division in BPF prints" \
		"$(wc -l <"$TMP/rust") lines; $(diff "$TMP/rust" "$TMP/c" | head -3 | tr '\n' '|')"
fi
"$BI" run "$P/rust_primes.bpf.o" --param u32=100 2>>"$LOG" | awk '{ print $2 }' >"$TMP/seq"
if [ -s "$TMP/seq" ] && cmp -s "$TMP/rust" "$TMP/seq"; then
	ok "the open-coded walk yields what the seq_file target of the same type shows"
else
	not_ok "the open-coded walk yields what the seq_file target of the same type shows" \
		"$(diff "$TMP/rust" "$TMP/seq" | head -3 | tr '\n' '|')"
fi
expect_eq "new: n = 0, 10000 and 10001 (EINVAL: next yields nothing, and stays drained)" \
	"$("$BI" run "$P/open_primes.bpf.o" --prog rust_limits 2>>"$LOG")" \
	"n=0 ret=0 count=0 last=0
n=10000 ret=0 count=10000 last=104729
n=10001 ret=-22 count=0 last=0"
# The module's own kfunc, in the set the build generated with the iterator's kfuncs.
"$BI" run "$P/kfunc_primes.bpf.o" --prog nth >"$TMP/nth" 2>>"$LOG"
if [ "$(wc -l <"$TMP/nth")" = 100 ] && cmp -s "$TMP/nth" "$TMP/rust"; then
	ok "rust_primes_nth(1..100), a kfunc of the module's own: the primes the walk yields"
else
	not_ok "rust_primes_nth(1..100), a kfunc of the module's own: the primes the walk yields" \
		"$(wc -l <"$TMP/nth") lines; $(diff "$TMP/nth" "$TMP/rust" | head -3 | tr '\n' '|')"
fi
expect_eq "rust_primes_nth(0), (1000), (1001): -EINVAL, 7919, -EINVAL" \
	"$("$BI" run "$P/kfunc_primes.bpf.o" --prog limits 2>>"$LOG")" "-22 7919 -22"

for c in "${REFUSED[@]}"; do
	expect_refused "verifier refuses $c: $(refused "$c")" "$P/open_primes_$c.bpf.o" "$(refused "$c")"
done

# bss MAP NAME...: the values of the global variables NAME of the .bss map MAP
# (libbpf names an object's .bss after the first 8 bytes of the object's name),
# one a line: an integer, or a struct's members in order, space-separated; an
# empty line for a variable it cannot find.
bss() {
	python3 - "$BPFTOOL" "$@" <<'PY'
import json, subprocess, sys
bpftool, name, names = sys.argv[1], sys.argv[2], sys.argv[3:]
r = subprocess.run([bpftool, "-j", "map", "dump", "name", name], capture_output=True, text=True)
if r.returncode:
    sys.exit(f"bpftool map dump name {name}: {r.stdout} {r.stderr}")
found = {}
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in names:
                found[k] = x
            else:
                walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(json.loads(r.stdout))
for n in names:
    v = found.get(n)
    print(" ".join(map(str, v.values())) if isinstance(v, dict) else "" if v is None else v)
PY
}

# Plain iterators run in any context: a tp_btf program at each hrtimer expiry
# (hard interrupt context) walks the first 10 primes; bpftool attaches it and
# pins its link, and the walks' sums are read back from its .bss.
IRQPIN=/sys/fs/bpf/open_primes_irq
if "$BPFTOOL" prog loadall "$P/open_primes_irq.bpf.o" $IRQPIN autoattach >>"$LOG" 2>&1; then
	ok "bpftool: a tp_btf program (hrtimer_expire_entry) walking rust_primes attaches"
else
	not_ok "bpftool: a tp_btf program (hrtimer_expire_entry) walking rust_primes attaches"
fi
# Up to 5 s for a walk at a timer that is not soft (each sleep arms one).
for _ in 1 2 3 4 5; do
	sleep 1
	counts=$(bss open_pri.bss hits bad hard 2>>"$LOG" | tr '\n' ' ')
	read -r hits bad hard <<<"${counts:--1 -1 -1}"
	[ "$hard" -gt 0 ] 2>/dev/null && break
done
echo "== irq: counts '$counts'; pins: $(ls $IRQPIN 2>&1)" >>"$LOG"
rm -rf $IRQPIN
if [ "$hits" -gt 0 ] 2>/dev/null && [ "$bad" = 0 ] && [ "$hard" -gt 0 ] 2>/dev/null; then
	ok "from hard interrupts: $hits walks ($hard at hard timers), each summing the first 10 primes to 129"
else
	not_ok "from hard interrupts: each walk sums the first 10 primes to 129" "hits=$hits bad=$bad hard=$hard"
fi

# NMI context: the kfuncs run no code of the Rust type there. TCG raises no PMU
# NMIs, but an x86 kprobe that is not optimized runs in the int3 handler, which
# enters NMI context; so kprobe optimization is turned off while the program is
# attached. The same calls at the sys_enter tracepoint of the same syscall (not
# NMI) are the control. Their results are read back from the object's .bss.
NMIPIN=/sys/fs/bpf/nmi_primes
OPT=/proc/sys/debug/kprobes-optimization
opt=$(cat $OPT 2>>"$LOG")
# Restored on the way out too, should the suite be cut short.
[ -n "$opt" ] && trap 'echo "$opt" >$OPT' EXIT
echo 0 2>>"$LOG" >$OPT
nmi=
if [ "$(cat $OPT 2>/dev/null)" != 0 ]; then
	echo "== nmi: cannot turn kprobe optimization off ($OPT)" >>"$LOG"
elif "$BPFTOOL" prog loadall "$P/nmi_primes.bpf.o" $NMIPIN autoattach >>"$LOG" 2>&1; then
	# [FTRACE] or [OPTIMIZED] here would mean no int3 (a kernel with
	# FUNCTION_TRACER probes a function's entry through ftrace).
	{ echo "== kprobes:"; cat /sys/kernel/debug/kprobes/list; } >>"$LOG" 2>&1
	python3 -c 'import os
for _ in range(3): os.getpgid(0)'
	nmi=$(bss nmi_prim.bss nmi plain 2>>"$LOG")
fi
echo "== nmi: '$nmi'; pins: $(ls $NMIPIN 2>&1)" >>"$LOG"
rm -rf $NMIPIN
[ -n "$opt" ] && echo "$opt" >$OPT
# Each: called at all, nth, new, items, sum.
result() { sed -n "$1p" <<<"$nmi" | awk '{ print ($1 > 0), $2, $3, $4, $5 }'; }
expect_eq "in NMI (an int3 kprobe): rust_primes_nth -EOPNOTSUPP, new -EOPNOTSUPP, an empty walk" \
	"$(result 1)" "1 -95 -95 0 0"
expect_eq "the same calls at sys_enter (not NMI): 11, 0, the first 10 primes (sum 129)" \
	"$(result 2)" "1 11 0 10 129"

# libbpf resolves module kfuncs itself: bpftool pins rust_walk (the object's
# first program) as a link of the task target.
"$BPFTOOL" iter pin "$P/open_primes.bpf.o" $PIN >>"$LOG" 2>&1
cat $PIN >"$TMP/pinned" 2>>"$LOG"
if cmp -s "$TMP/pinned" "$TMP/rust"; then
	ok "bpftool iter pin: the same primes through libbpf's loader"
else
	echo "== pinned: $(wc -l <"$TMP/pinned") lines; diff: $(diff "$TMP/pinned" "$TMP/rust" | head -5 | tr '\n' '|')" >>"$LOG"
	not_ok "bpftool iter pin: the same primes through libbpf's loader" \
		"$(wc -l <"$TMP/pinned") lines; $(diff "$TMP/pinned" "$TMP/rust" | head -4 | tr '\n' '|')"
fi
expect_eq "delete_module refused while a program calling its kfuncs is loaded" \
	"$(bpfpy rmmod $MOD)" EAGAIN
rm -f $PIN
check "rmmod $MOD once the program is freed" unload_module $MOD
out=$("$BI" run "$P/open_primes.bpf.o" --prog rust_walk 2>&1)
echo "== after rmmod: $out" >>"$LOG"
if echo "$out" | grep -q "kfunc .*bpf_iter_rust_primes_new.*not in vmlinux or any module"; then
	ok "without the module, loading says which kfunc is missing"
else
	not_ok "without the module, loading says which kfunc is missing" "$(echo "$out" | tail -2 | tr '\n' '|')"
fi

# The selftest module's iterators (no earlier suite loads it).
check "insmod $SELFTEST" insmod "$OUT/modules/$SELFTEST.ko"
for p in rcu_count rcu_count_locked sleep_count; do
	expect_eq "$p: counts 1 to 3" "$("$BI" run "$P/open_selftest.bpf.o" --prog "$p" 2>>"$LOG" | tr '\n' ' ')" "1 2 3 "
done
expect_eq "a drained iterator stays drained, though its own next would go on" \
	"$("$BI" run "$P/open_selftest.bpf.o" --prog relapse 2>>"$LOG" | tr '\n' ' ')" "1 2 3 more 0 "
expect_eq "an iterator without end stops after its MAX_ITEMS (1000) items" \
	"$("$BI" run "$P/open_selftest.bpf.o" --prog forever 2>>"$LOG")" "1000 1000"
# 6.12 refuses next outside an RCU read-side critical section; 7.3 (since
# "bpf: Enforce RCU protection for KF_RCU_PROTECTED") refuses new already.
expect_refused "verifier refuses an RCU-protected iterator without RCU in a sleepable program" \
	"$P/open_selftest_RCU_NO_LOCK.bpf.o" \
	"expected an RCU CS when using bpf_iter_rust_rcu_count_next|kernel func bpf_iter_rust_rcu_count_new requires RCU critical section protection"
expect_refused "verifier refuses a sleepable iterator in a program that is not sleepable" \
	"$P/open_selftest_SLEEP_NOT_SLEEPABLE.bpf.o" \
	"program must be sleepable to call sleepable kfunc bpf_iter_rust_sleep_count_new"
# After init, a second registration of the module's kfunc set is refused (EINVAL).
if echo >/sys/kernel/debug/$SELFTEST/kfuncs 2>"$TMP/err"; then
	not_ok "register_kfuncs after init: EINVAL" "it succeeded"
elif grep -qi "invalid argument" "$TMP/err"; then
	ok "register_kfuncs after init: EINVAL"
else
	not_ok "register_kfuncs after init: EINVAL" "$(cat "$TMP/err")"
fi
# A name another loaded module has: the newest module's code would win for programs verified
# against the older one's BTF.
clash_refused "$CLASH2" "an iterator named rust_rcu_count, as the loaded $SELFTEST's" \
	"bpf: kfunc bpf_iter_rust_rcu_count_new: the name is taken"
check "rmmod $SELFTEST" unload_module $SELFTEST

# A name vmlinux has: the kernel would run vmlinux's bpf_iter_task_new for it.
clash_refused "$CLASH" "an iterator named task, as vmlinux's" \
	"bpf: kfunc bpf_iter_task_new: the name is taken"

# rust_task against C's task iterator, walked side by side in one program (one RCU
# read-side section): each line says how many tasks both yielded and where they first
# differed (-1: nowhere). A process with 5 more threads is running meanwhile.
check "insmod $TASKMOD" insmod "$OUT/modules/$TASKMOD.ko"
python3 -c 'import threading, time
for _ in range(5): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
time.sleep(60)' &
THREADED=$!
sleep 1
"$BI" run "$P/open_task.bpf.o" --prog lockstep_walks >"$TMP/lockstep" 2>>"$LOG"
kill $THREADED 2>/dev/null
wait $THREADED 2>/dev/null
{ echo "== lockstep:"; cat "$TMP/lockstep"; } >>"$LOG"
field() { # field WHAT ID KEY: the value of KEY= on the line of WHAT ID
	awk -v w="$1" -v id="$2" -v k="$3" '$1 == w && $2 == id {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$TMP/lockstep"
}
procs=$(field procs 0 n)
threads=$(field threads 0 n)
expect_eq "every process (ALL_PROCS): C and Rust yield the same tasks" \
	"$(field procs 0 differ) $(field procs 0 ret) $([ "${procs:-0}" -gt 1 ] && echo some)" "-1 0,0 some"
expect_eq "every thread (ALL_THREADS): the same tasks, 5 more than processes at least" \
	"$(field threads 0 differ) $(field threads 0 ret) $([ "${threads:-0}" -ge $((${procs:-0} + 5)) ] && echo more)" \
	"-1 0,0 more"
expect_eq "unknown flags: both new return EINVAL, and next yields nothing" \
	"$(field badflags 0 n) $(field badflags 0 differ) $(field badflags 0 ret)" "0 -1 -22,-22"
expect_eq "the threads of a NULL process: both new return EINVAL" \
	"$(field nullproc 0 n) $(field nullproc 0 differ) $(field nullproc 0 ret)" "0 -1 -22,-22"
expect_eq "the threads of the 6-thread process (PROC_THREADS, the target's trusted task)" \
	"$(field proc $THREADED n) $(field proc $THREADED differ) $(field proc $THREADED ret)" "6 -1 0,0"
nproc_lines=$(grep -c '^proc ' "$TMP/lockstep")
bad=$(awk '$1 == "proc" && ($4 != "differ=-1" || $5 != "ret=0,0" || $3 == "n=0")' "$TMP/lockstep" | head -3)
if [ "$nproc_lines" -gt 1 ] && [ -z "$bad" ]; then
	ok "the threads of each of $nproc_lines processes: the same tasks"
else
	not_ok "the threads of each process: the same tasks" "$nproc_lines lines; $(echo "$bad" | tr '\n' '|')"
fi
# The open-coded rust_task against the seq_file rust_task of the same type:
# every thread, from one read (open_and_seq), as sets (the open-coded walk goes
# by process, the seq_file target by TID). A task created or gone between the
# two walks would make them differ: up to three tries.
for try in 1 2 3; do
	"$BI" run "$P/open_task.bpf.o" --prog open_and_seq >"$TMP/open_and_seq" 2>>"$LOG"
	awk '$1 == "open" && $2 != 0 { print $2 }' "$TMP/open_and_seq" | sort -n >"$TMP/open_tids"
	awk '$1 == "seq" { print $2 }' "$TMP/open_and_seq" | sort -n >"$TMP/seq_tids"
	cmp -s "$TMP/open_tids" "$TMP/seq_tids" && break
	{ echo "== open_and_seq, try $try:"; diff "$TMP/open_tids" "$TMP/seq_tids"; } >>"$LOG"
done
n_open=$(wc -l <"$TMP/open_tids")
if [ "$n_open" -gt 1 ] && cmp -s "$TMP/open_tids" "$TMP/seq_tids"; then
	ok "every thread: the open-coded rust_task yields the $n_open tasks the seq_file rust_task shows"
else
	not_ok "every thread: the open-coded rust_task yields the tasks the seq_file rust_task shows" \
		"$n_open open, $(wc -l <"$TMP/seq_tids") seq"
fi
expect_refused "verifier refuses a task that is neither referenced nor trusted (real_parent)" \
	"$P/open_task_UNTRUSTED.bpf.o" "must be referenced or trusted"
kf=$("$BPFTOOL" btf dump file /sys/kernel/btf/$TASKMOD 2>>"$LOG" | grep -cE "^\[[0-9]+\] FUNC 'bpf_iter_rust_task_(new|next)'|^[[:space:]]+'task__nullable' type_id=")
expect_eq "the module's BTF: bpf_iter_rust_task_new and _next, new taking task__nullable" "$kf" 3
check "rmmod $TASKMOD" unload_module $TASKMOD

# The records sample's rust_records, over a collection the module owns, which the walks
# reach through a static slot: the ids the seq_file target of the same type shows.
RECMOD=rust_bpf_iter_records
RD=/sys/kernel/debug/$RECMOD
check "insmod $RECMOD" insmod "$OUT/modules/$RECMOD.ko"
for r in "a 1" "b 2" "c 3"; do echo "$r" >$RD/add; done
echo 2 >$RD/del
open_ids=$("$BI" run "$P/open_records.bpf.o" 2>>"$LOG" | tr '\n' ' ')
# records.bpf.o relocates its record struct against the module's BTF (CO-RE): libbpf's loader.
"$BPFTOOL" iter pin "$P/records.bpf.o" /sys/fs/bpf/open_records_seq >>"$LOG" 2>&1
cat /sys/fs/bpf/open_records_seq >"$TMP/records_seq" 2>>"$LOG"
seq_ids=$(awk '$1 != "end" { print $1 }' "$TMP/records_seq" | tr '\n' ' ')
rm -f /sys/fs/bpf/open_records_seq
expect_eq "bpf_for_each(rust_records): the ids the seq_file target shows (1 3)" \
	"$open_ids/$seq_ids" "1 3 /1 3 "
# bpf-iter (aya-obj) relocates it against vmlinux's BTF with the module's merged in.
expect_eq "bpf-iter run records.bpf.o (CO-RE of the module's struct): what libbpf's loader shows" \
	"$("$BI" run "$P/records.bpf.o" 2>>"$LOG")" "$(grep -c . "$TMP/records_seq" | grep -qx 3 && cat "$TMP/records_seq")"
expect_eq "rust_records_count(), a sleepable kfunc of the module's own: 2 records" \
	"$("$BI" run "$P/kfunc_records.bpf.o" 2>>"$LOG")" 2
expect_refused "verifier refuses the sleepable rust_records_count in a program that is not sleepable" \
	"$P/kfunc_records_NOT_SLEEPABLE.bpf.o" \
	"program must be sleepable to call sleepable kfunc rust_records_count"
check "rmmod $RECMOD" unload_module $RECMOD
rm -rf "$TMP"
