// SPDX-License-Identifier: GPL-2.0
//! An open iterator yields integers, kept in its state (no `Yield` for a reference to a task,
//! which would outlive `destroy` as a trusted pointer).
// expect: E0277
// expect: Yield

use kernel::bpf::iter::{OpenIter, Protection};
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State = ();
    type Item = &'static kernel::task::Task; // FAIL
    // type Item = u32; // PASS
    fn new((): ()) -> Result {
        Err(EINVAL)
    }
    fn next(_: &mut ()) -> Option<Self::Item> {
        None
    }
}

kernel::bpf_open_iter!(O);
