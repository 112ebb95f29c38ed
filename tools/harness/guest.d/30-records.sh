#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The rust_records target (samples/rust/bpf_iter_records): a collection the
# module owns, changed through debugfs while pinned iterators read it. The
# expected output is computed here from what the suite adds and deletes; ids
# count from 1 for each load of the module.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/records.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
PROG=$OUT/progs/records.bpf.o
MOD=rust_bpf_iter_records
KO=$OUT/modules/$MOD.ko
FS=/sys/fs/bpf
D=/sys/kernel/debug/$MOD
PIN=$FS/records
TMP=$(mktemp -d)

# The model: recs[id]="id value name", next_id the id the module gives next.
declare -A recs
next_id=1
add() { # add NAME VALUE: through debugfs, and into the model if accepted
	echo "$1 $2" >"$D/add" 2>>"$LOG" || return 1
	recs[$next_id]="$next_id $2 $1"
	next_id=$((next_id + 1))
}
del() { # del ID
	echo "$1" >"$D/del" 2>>"$LOG" || return 1
	unset "recs[$1]"
}
want() { # what the program prints for the model
	local id
	for id in $(printf '%s\n' "${!recs[@]}" | sort -n); do echo "${recs[$id]}"; done
	echo end
}
unload() { unload_module $MOD; }
# expect_eio NAME CMD: ok if CMD fails with EIO ("Input/output error").
expect_eio() {
	local name=$1 err
	shift
	err=$("$@" 2>&1)
	if echo "$err" | grep -qi "input/output error"; then ok "$name"; else not_ok "$name" "${err:-it succeeded}"; fi
}
# well_formed FILE BASE: "ID VALUE NAME" lines with strictly increasing ids,
# then one "end"; every line of BASE (records that existed throughout) present.
well_formed() {
	awk 'BEGIN { last = 0; ended = 0 }
		ended { print "line after end: " $0; bad = 1; exit }
		$0 == "end" { ended = 1; next }
		!/^[0-9]+ [0-9]+ [!-~]+$/ { print "malformed: " $0; bad = 1; exit }
		$1 + 0 <= last { print "id " $1 " after " last; bad = 1; exit }
		{ last = $1 + 0 }
		END { if (!bad && !ended) { print "no end line"; bad = 1 } exit bad }' "$1" || return 1
	grep -v '^end$' "$1" | sort >"$TMP/wf-seen"
	grep -v '^end$' "$2" | sort >"$TMP/wf-base"
	if [ -n "$(comm -13 "$TMP/wf-seen" "$TMP/wf-base")" ]; then
		echo "missing: $(comm -13 "$TMP/wf-seen" "$TMP/wf-base" | head -3 | tr '\n' '|')"
		return 1
	fi
}

# Upstream's kernel::debugfs sample on kernels that have kernel::debugfs (7.x;
# 6.12's backport in compat/ has write-only files only, which this suite's own
# module covers): its files of every kind held open across rmmod, then used and
# closed (7.3 patch 0021: before it, the close read the freed module's
# file_operations and oopsed in full_proxy_release).
UPSTREAM=0
case $(uname -r) in 6.*) ;; *) UPSTREAM=10 ;; esac
plan $((35 + UPSTREAM))

check "insmod $MOD" insmod "$KO"
if [ -w "$D/add" ] && [ -w "$D/del" ] && [ -w "$D/clear" ]; then
	ok "debugfs files add, del, clear"
else
	not_ok "debugfs files add, del, clear" "$(ls -l "$D" 2>&1 | tr '\n' '|')"
fi
check "bpftool iter pin records.bpf.o" "$BPFTOOL" iter pin "$PROG" $PIN
expect_eq "empty collection: only the end line" "$(cat $PIN 2>&1)" "$(want)"

# A few records, with values the suite makes up.
r=0
for i in 1 2 3 4 5 6; do add "rec$i" $((RANDOM * 1000 + i)) || r=1; done
expect_eq "six records added" "$r" 0
expect_eq "iterator shows the records added" "$(cat $PIN 2>&1)" "$(want)"
expect_eq "read 7 bytes at a time (resume mid-walk)" "$(dd if=$PIN bs=7 2>/dev/null)" "$(want)"
r=0
del 2 || r=1
del 5 || r=1
expect_eq "two records deleted" "$r" 0
expect_eq "iterator after deleting" "$(cat $PIN 2>&1)" "$(want)"
err=$( (echo 2 >"$D/del") 2>&1)
if echo "$err" | grep -qi "no such file"; then
	ok "deleting a deleted id fails with ENOENT"
else
	not_ok "deleting a deleted id fails with ENOENT" "$err"
fi
r=0
for cmd in "add:nameistoolong1234 1" "add:novalue" "add:x 12a" "add:x 99999999999999999999" \
	"add: 5" "del:abc" "del:" "del:-1"; do
	if (echo "${cmd#*:}" >"$D/${cmd%%:*}" 2>>"$LOG"); then
		r=1
		echo "accepted: $cmd" >>"$LOG"
	fi
done
expect_eq "malformed commands refused" "$r" 0
expect_eq "collection unchanged by refused commands" "$(cat $PIN 2>&1)" "$(want)"
n=${#recs[@]}
long=abcdefghijklmno
add "$long" 18446744073709551615
expect_eq "15-byte name and u64::MAX value" "$(cat $PIN | tail -n 2 | head -n 1)" \
	"$((next_id - 1)) 18446744073709551615 $long"

info=$(bpfpy fdinfo $PIN 2>&1)
if echo "$info" | grep -q "^target_name:[[:space:]]*rust_records$" &&
	echo "$info" | grep -q "^records_at_attach:[[:space:]]*0$" &&
	echo "$info" | grep -q "^records_now:[[:space:]]*$((n + 1))$"; then
	ok "link fdinfo: target, records at attach and now"
else
	not_ok "link fdinfo: target, records at attach and now" "$(echo "$info" | tr '\n' '|')"
fi
show=$("$BPFTOOL" link show pinned $PIN 2>&1)
if echo "$show" | grep -q "target_name rust_records"; then ok "bpftool link show"; else not_ok "bpftool link show" "$show"; fi
"$BPFTOOL" map create $FS/m type array key 4 value 4 entries 1 name m >>"$LOG" 2>&1
err=$("$BPFTOOL" iter pin "$PROG" $FS/bad map pinned $FS/m 2>&1)
if [ ! -e $FS/bad ] && echo "$err" | says_errno EINVAL "invalid argument"; then
	ok "link parameters refused with EINVAL"
else
	not_ok "link parameters refused with EINVAL" "$(echo "$err" | tr '\n' '|')"
fi
rm -f $FS/bad $FS/m

echo >"$D/clear" 2>>"$LOG"
recs=()
expect_eq "clear: only the end line" "$(cat $PIN 2>&1)" "$(want)"

# Many records: a long walk, over many reads.
N=5000
start=$(date +%s%N)
exec 4>"$D/add"
r=0
for ((i = 0; i < N; i++)); do
	echo "b$i $((i * 7919))" >&4 || { r=1; break; }
	recs[$next_id]="$next_id $((i * 7919)) b$i"
	next_id=$((next_id + 1))
done
exec 4>&-
echo "added $N records in $((($(date +%s%N) - start) / 1000000)) ms" >>"$LOG"
expect_eq "$N records added" "$r" 0
want >"$TMP/want"
start=$(date +%s%N)
cat $PIN >"$TMP/got" 2>&1
echo "read $N records in $((($(date +%s%N) - start) / 1000000)) ms, $(wc -c <"$TMP/got") bytes" >>"$LOG"
expect_eq "$N records: line count through the iterator" "$(grep -c -v '^end$' "$TMP/got")" $N
if cmp -s "$TMP/got" "$TMP/want"; then ok "$N records: output as added"; else not_ok "$N records: output as added" "$(diff "$TMP/got" "$TMP/want" | head -5 | tr '\n' '|')"; fi
dd if=$PIN bs=100 of="$TMP/got100" 2>/dev/null
if cmp -s "$TMP/got100" "$TMP/want"; then ok "$N records: read 100 bytes at a time"; else not_ok "$N records: read 100 bytes at a time" "$(diff "$TMP/got100" "$TMP/want" | head -5 | tr '\n' '|')"; fi

# A concurrent writer adds and deletes records of its own while the suite
# reads: every read must be well-formed, in id order, and hold every record
# of the base set (which exists throughout).
cp "$TMP/want" "$TMP/base"
touch "$TMP/run"
(
	id=$next_id
	while [ -e "$TMP/run" ]; do
		first=$id
		for j in $(seq 20); do
			echo "c$j $j" >"$D/add" 2>/dev/null && id=$((id + 1))
		done
		for ((k = first; k < id; k++)); do echo $k >"$D/del" 2>/dev/null; done
	done
	echo $id >"$TMP/writer-next-id"
) &
writer=$!
bad=""
for round in $(seq 8); do
	if ((round % 2)); then cat $PIN >"$TMP/c" 2>&1; else dd if=$PIN bs=50 of="$TMP/c" 2>/dev/null; fi
	msg=$(well_formed "$TMP/c" "$TMP/base") || { bad="round $round: $msg"; break; }
done
rm -f "$TMP/run"
wait $writer
if [ -z "$bad" ]; then ok "reads during concurrent add/del: well-formed, base set complete"; else not_ok "reads during concurrent add/del: well-formed, base set complete" "$bad"; fi
echo "concurrent writer: $(($(cat "$TMP/writer-next-id") - next_id)) records added and deleted during $round reads" >>"$LOG"
next_id=$(cat "$TMP/writer-next-id")
cat $PIN >"$TMP/after" 2>&1
if cmp -s "$TMP/after" "$TMP/base"; then
	ok "after the writer: exactly the base set"
else
	not_ok "after the writer: exactly the base set" "$(diff "$TMP/after" "$TMP/base" | head -5 | tr '\n' '|')"
fi

# Lifetimes: the pinned link, then an open iterator fd, keep the module.
expect_eq "delete_module refused while a link is pinned" "$(bpfpy rmmod $MOD)" EAGAIN
exec 3<$PIN
rm -f $PIN
sleep 0.2
expect_eq "delete_module refused while an iterator fd is open" "$(bpfpy rmmod $MOD)" EAGAIN
echo >"$D/clear" 2>>"$LOG"
expect_eq "the open iterator reads the cleared collection" "$(cat <&3 2>&1)" end
exec 3<&-
# An open debugfs file does not keep the module (kernel::debugfs: its file
# operations are the kernel's, and debugfs calls the module only while the
# file exists); after rmmod a write to it fails, and closing it is harmless
# (a module's own file_operations without an owner would be read there after
# the module is freed).
exec 5>"$D/add"
check "a write through a debugfs fd held open" bash -c 'echo "open 1" >&5'
check "rmmod allowed once link and iterator are gone (a debugfs file open)" unload
if [ -e "$D" ]; then not_ok "debugfs directory removed"; else ok "debugfs directory removed"; fi
expect_eio "a write to a debugfs file open across rmmod fails with EIO" bash -c 'echo "late 1" >&5'
dmesg_before=$(dmesg | grep -c -E "Oops|BUG:|KASAN|general protection")
exec 5>&-
sleep 0.2
expect_eq "closing it after rmmod: no Oops, BUG or KASAN report" \
	"$(dmesg | grep -c -E "Oops|BUG:|KASAN|general protection")" "$dmesg_before"

# Reload: a new collection, ids from 1 again.
check "insmod again" insmod "$KO"
recs=()
next_id=1
add again 1
check "pin after reload" "$BPFTOOL" iter pin "$PROG" $PIN
expect_eq "output after reload" "$(cat $PIN 2>&1)" "$(want)"
rm -f $PIN
check "final rmmod" unload

if [ "$UPSTREAM" != 0 ]; then
	UKO=$OUT/modules/rust_debugfs_scoped.ko
	S=/sys/kernel/debug/rust_scoped_debugfs
	check "upstream sample: insmod rust_debugfs_scoped" insmod "$UKO"
	check "upstream sample: a device through control/create (write-only file)" \
		bash -c "echo 'dev 7 8' >$S/control/create"
	expect_eq "upstream sample: read a seq_file (read-write file)" "$(cat $S/dynamic/dev/0 2>&1)" 7
	echo 9 >$S/dynamic/dev/1 2>>"$LOG"
	expect_eq "upstream sample: write then read it" "$(cat $S/dynamic/dev/1 2>&1)" 9
	expect_eq "upstream sample: read a binary file" "$(head -c 4 $S/dynamic/dev/blob 2>&1)" BBBB
	exec 6>"$S/control/create" 7<"$S/dynamic/dev/0" 8<"$S/dynamic/dev/blob" 9>"$S/dynamic/dev/1"
	check "upstream sample: rmmod with a file of each kind open" unload_module rust_debugfs_scoped
	expect_eio "upstream sample: read of a seq_file open across rmmod fails with EIO" \
		bash -c 'cat <&7'
	expect_eio "upstream sample: read of a binary file open across rmmod fails with EIO" \
		bash -c 'head -c 4 <&8'
	expect_eio "upstream sample: write to a write-only file open across rmmod fails with EIO" \
		bash -c 'echo "late 1" >&6'
	dmesg_before=$(dmesg | grep -c -E "Oops|BUG:|KASAN|general protection")
	exec 6>&- 7<&- 8<&- 9>&-
	sleep 0.2
	expect_eq "upstream sample: closing them after rmmod: no Oops, BUG or KASAN report" \
		"$(dmesg | grep -c -E "Oops|BUG:|KASAN|general protection")" "$dmesg_before"
fi
rm -rf "$TMP"
