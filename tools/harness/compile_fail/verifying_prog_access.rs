// SPDX-License-Identifier: GPL-2.0
//! soundness-2 point 3: what the verifier finds out about a program is not offered while it
//! verifies it (`get_func_proto` gets a `VerifyingProg`).
// expect: E0599
// expect: no method named `max_rdonly_access` found

use kernel::bpf::iter::VerifyingProg;

pub fn reads(prog: &VerifyingProg) -> u32 {
    let _ = prog;
    prog.max_rdonly_access() // FAIL
    // u32::from(prog.sleepable()) // PASS
}
