#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpf-iter, the command line tool, as a user runs it (guest-lib/cli.py):
# every subcommand, exit statuses, messages for bad input, JSON parsed back;
# the Rust twins' module loaded for the module-target cases, then unloaded.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/cli.log
: >"$LOG"
MOD=rust_bpf_iter_task

insmod "$OUT/modules/$MOD.ko" >>"$LOG" 2>&1
python3 "$HERE/../guest-lib/cli.py" "$OUT" 1 2>>"$LOG" | tee "$OUT/cli.py.out"
# Continue the numbering of the cases.
_n=$(grep -cE '^(ok|not ok) ' "$OUT/cli.py.out")
check "$MOD: rmmod after the cli cases (nothing holds it)" unload_module $MOD
