// SPDX-License-Identifier: GPL-2.0
//! An argument name of an open iterator's `new` has no `__` (the verifier would read a suffix
//! such as `__sz`, the size of the argument before it, as an annotation).
// expect: E0080
// expect: without `__`

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    const ARG_NAMES: &'static [&'static str] = &["n__sz"]; // FAIL
    // const ARG_NAMES: &'static [&'static str] = &["n"]; // PASS
    type Args = (u32,);
    type State<'r> = u32;
    type Item<'r> = u32;
    fn new<'r>(_: Scope<'r, Self>, (n,): (u32,)) -> Result<u32> {
        Ok(n)
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut u32) -> Option<u32> {
        None
    }
}

kernel::bpf_open_iter!(O);
