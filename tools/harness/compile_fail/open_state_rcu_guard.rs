// SPDX-License-Identifier: GPL-2.0
//! An open iterator's state holds no RCU guard (it is Send): it stays in the program's stack
//! while the program runs (and, sleepable, sleeps) between `new`, `next` and `destroy`.
// expect: E0277
// expect: cannot be sent between threads safely

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = kernel::sync::rcu::Guard; // FAIL
    // type State<'r> = u64; // PASS
    type Item<'r> = u32;
    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<Self::State<'r>> {
        Err(EINVAL)
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut Self::State<'r>) -> Option<u32> {
        None
    }
}

kernel::bpf_open_iter!(O);
