// SPDX-License-Identifier: GPL-2.0
//! An open iterator yields integers, kept in its state, or kernel objects that programs know
//! (`BtfType`): no reference to anything else, which a program would read as it pleases.
// expect: E0277
// expect: Yield

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::{c_str, prelude::*};

struct O;

static V: u32 = 7;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = ();
    type Item<'r> = &'static u32; // FAIL
    // type Item<'r> = u32; // PASS
    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result {
        Err(EINVAL)
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut ()) -> Option<Self::Item<'r>> {
        Some(&V) // FAIL
        // Some(V) // PASS
    }
}

kernel::bpf_open_iter!(O);
