// SPDX-License-Identifier: GPL-2.0
//! Only an iterator of `Protection::Rcu` gets the program's RCU read-side section from its
//! scope: a plain one may run in a sleepable program, outside of any.
// expect: E0080
// expect: Protection::Rcu only

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::pid_namespace::ProcessCursor;
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain; // FAIL
    // const PROTECTION: Protection = Protection::Rcu; // PASS
    type Args = ();
    type State<'r> = ProcessCursor<'r>;
    type Item<'r> = &'r kernel::task::Task;
    fn new<'r>(scope: Scope<'r, Self>, (): ()) -> Result<ProcessCursor<'r>> {
        Ok(ProcessCursor::start(scope.rcu()))
    }
    fn next<'r>(_: Scope<'r, Self>, c: &mut ProcessCursor<'r>) -> Option<&'r kernel::task::Task> {
        c.advance()
    }
}

kernel::bpf_open_iter!(O);
