#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The soundness-2 points that need a module of their own
# (samples/rust/bpf_iter_selftest): guest-lib/soundness.py, whose last case
# unloads the module (after leaking a registration, point 4); then a module
# that registers a target loads and unloads, the targets list walked again.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/soundness.log
: >"$LOG"
MOD=rust_bpf_iter_selftest

insmod "$OUT/modules/$MOD.ko" >>"$LOG" 2>&1
python3 "$HERE/../guest-lib/soundness.py" "$OUT" 2 2>>"$LOG" | tee "$OUT/soundness.py.out"
_n=$(grep -cE '^(ok|not ok) ' "$OUT/soundness.py.out")
check "point 4: after the leak, another module registers its target (insmod)" \
	insmod "$OUT/modules/rust_bpf_iter_sample.ko"
check "point 4: ... and unregisters it (rmmod)" unload_module rust_bpf_iter_sample
