# SPDX-License-Identifier: GPL-2.0
# What tools/harness/progs/rust_sample.bpf.c prints for the Rust sample target
# (samples/rust/bpf_iter), for the suites that read it (sourced).
#
# The table of the sample; the final call from stop sees the seq_num of the
# last object (bpf_seq_read counts objects from 0 and does not count the end).
SAMPLE_WANT='index id value name
0 1 10 alpha
1 2 200 beta
2 3 3000 gamma
3 4 40000 delta
4 5 500000 epsilon
end 4'
# The same with -DALT.
SAMPLE_WANT_ALT='alt 1
alt 2
alt 3
alt 4
alt 5
end 4'
