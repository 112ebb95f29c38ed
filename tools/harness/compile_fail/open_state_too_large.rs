// SPDX-License-Identifier: GPL-2.0
//! An open iterator's state fits the BPF stack (`MAX_STATE_SIZE`), checked at compile time.
// expect: E0080
// expect: too large for the BPF stack

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = [u64; 8]; // FAIL
    // type State<'r> = [u64; 2]; // PASS
    type Item<'r> = u32;
    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<Self::State<'r>> {
        Err(EINVAL)
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut Self::State<'r>) -> Option<u32> {
        None
    }
}

kernel::bpf_open_iter!(O);
