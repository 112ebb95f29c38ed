#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Userspace selftests of BPF iterators (tools/bpf-iter), TAP on stdout; the
# Rust twins' module is loaded from (and unloaded after) $OUT/modules.
OUT=$1
exec "$OUT/bin/bpf-iter-selftest" --progs "$OUT/progs" --modules "$OUT/modules"
