#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Userspace selftests of BPF iterators (tools/bpf-iter), TAP on stdout.
OUT=$1
exec "$OUT/bin/bpf-iter-selftest" --progs "$OUT/progs"
