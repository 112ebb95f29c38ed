#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpf-iter, the command line tool, as a user runs it (guest-lib/cli.py):
# every subcommand, exit statuses, messages for bad input, JSON parsed back;
# the Rust twins' module, the params sample (Rust targets taking a map and
# a cgroup) and the primes sample (a parameter of its own) loaded for the
# module-target cases, then unloaded.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/cli.log
: >"$LOG"
MODS=(rust_bpf_iter_task rust_bpf_iter_params rust_bpf_iter_primes)

for m in "${MODS[@]}"; do insmod "$OUT/modules/$m.ko" >>"$LOG" 2>&1; done
python3 "$HERE/../guest-lib/cli.py" "$OUT" ${#MODS[@]} 2>>"$LOG" | tee "$OUT/cli.py.out"
# Continue the numbering of the cases.
_n=$(grep -cE '^(ok|not ok) ' "$OUT/cli.py.out")
for m in "${MODS[@]}"; do check "$m: rmmod after the cli cases (nothing holds it)" unload_module "$m"; done
