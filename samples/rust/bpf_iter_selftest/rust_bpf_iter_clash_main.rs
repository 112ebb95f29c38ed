// SPDX-License-Identifier: GPL-2.0

//! A module whose open-coded iterator is named `task`, as vmlinux's is (not a sample).
//!
//! The kernel finds a kfunc's code by its name, in vmlinux first: programs calling
//! `bpf_iter_task_new` with this module's prototype and state size would run vmlinux's function.
//! Loading the module must fail with `EEXIST` (`kernel::bpf::iter::register_kfuncs`), driven by
//! `tools/harness/guest.d/37-open-coded.sh`.

use kernel::bpf::iter::{self, Protection, Scope};
use kernel::{c_str, prelude::*};

/// An empty walk named `task`.
struct Clash;

impl iter::OpenIter for Clash {
    const NAME: &'static CStr = c_str!("task");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = ();
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result {
        Ok(())
    }

    fn next<'r>(_: Scope<'r, Self>, _state: &mut ()) -> Option<u32> {
        None
    }
}

kernel::module_bpf_iter_target! {
    open_iters: [Clash],
    name: "rust_bpf_iter_clash",
    description: "An open-coded iterator named as vmlinux's task iterator (not a sample)",
    license: "GPL",
}
