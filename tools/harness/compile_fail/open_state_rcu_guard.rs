// SPDX-License-Identifier: GPL-2.0
//! An open iterator's state holds no RCU guard (it is Send): it stays in the program's stack
//! while the program runs (and, sleepable, sleeps) between `new`, `next` and `destroy`.
// expect: E0277
// expect: cannot be sent between threads safely

use kernel::bpf::iter::{OpenIter, Protection};
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State = kernel::sync::rcu::Guard; // FAIL
    // type State = u64; // PASS
    type Item = u32;
    fn new((): ()) -> Result<Self::State> {
        Err(EINVAL)
    }
    fn next(_: &mut Self::State) -> Option<u32> {
        None
    }
}

kernel::bpf_open_iter!(O);
