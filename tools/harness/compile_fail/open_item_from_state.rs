// SPDX-License-Identifier: GPL-2.0
//! An object that `next` yields lives for the walk's scope (the program may use it after
//! `destroy`), so it cannot be borrowed from the state, which `destroy` drops: a task the state
//! holds a reference on goes out through the RCU section (`Task::under_rcu`).
// expect: lifetime may not live long enough

use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::sync::aref::ARef;
use kernel::task::Task;
use kernel::{c_str, prelude::*};

struct O;

impl OpenIter for O {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Rcu;
    type Args = (ARef<Task>,);
    type State<'r> = Option<ARef<Task>>;
    type Item<'r> = &'r Task;
    fn new<'r>(_: Scope<'r, Self>, (t,): (ARef<Task>,)) -> Result<Option<ARef<Task>>> {
        Ok(Some(t))
    }
    fn next<'r>(scope: Scope<'r, Self>, s: &mut Option<ARef<Task>>) -> Option<&'r Task> {
        let _ = scope;
        s.as_deref() // FAIL
        // s.take()?.under_rcu(scope.rcu()) // PASS
    }
}

kernel::bpf_open_iter!(O);
